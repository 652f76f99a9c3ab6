"""The web page, as a person uses it: a real headless Chromium (Debian's package, driven by
Playwright) against a real uvicorn server over the seed index built with the real model."""

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Browser, Dialog, Page, Route, expect, sync_playwright

from indexer import IndexSettings, build_index
from service.settings import ServiceSettings
from tests.conftest import REPO, FakeEmbedder, RunningServer, free_port, serve

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO / "test-artifacts"
PHASES = "what are the deal's phases?"
OFF_TOPIC = "how do I bake sourdough bread?"
HOSTILE = '<script>alert(1)</script><img src=x onerror="window.pwned=1;alert(2)"> phases?'

expect.set_options(timeout=20_000)


@dataclass
class Tab:
    """A page plus everything it reported that a test may want to refuse."""

    page: Page
    base_url: str
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def open(self, path: str = "/") -> None:
        self.page.goto(self.base_url + path)

    def ask(self, question: str) -> None:
        self.page.locator("#q").fill(question)
        self.page.locator("#q").press("Enter")

    def assert_nothing_injected(self) -> None:
        self.page.wait_for_timeout(300)  # the time an injected onerror handler would need
        assert self.dialogs == []
        assert self.page.evaluate("window.pwned") is None
        assert self.page.locator("main img, main script").count() == 0


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: `make browser` installs it (apt-get, as root)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@contextmanager
def open_tab(browser: Browser, base_url: str, **context_options) -> Iterator[Tab]:
    context = browser.new_context(**context_options)
    page = context.new_page()
    tab = Tab(page, base_url)

    def on_dialog(dialog: Dialog) -> None:
        tab.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda m: m.type == "error" and tab.console_errors.append(m.text))
    page.on("pageerror", lambda error: tab.console_errors.append(str(error)))
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def tab(browser: Browser, seed_server: RunningServer) -> Iterator[Tab]:
    with open_tab(browser, seed_server.base_url, viewport={"width": 1280, "height": 900}) as tab:
        yield tab


@pytest.fixture(scope="module")
def api(seed_server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=seed_server.base_url, timeout=30) as client:
        yield client


def test_asking_shows_the_answer_card_and_ranked_passages(tab: Tab, api: httpx.Client) -> None:
    expected = api.get("/ask", params={"q": PHASES, "k": 5}).json()
    tab.open()
    expect(tab.page.locator("#q")).to_be_focused()
    tab.ask(PHASES)

    page = tab.page
    expect(page.locator("#answer")).to_be_visible()
    # The phases question is answered in parts: each shown quoted and cited, in order.
    parts = page.locator("#answer-parts > li")
    assert len(expected["answer"]["parts"]) == 2
    expect(parts).to_have_count(2)
    for item, part in zip(parts.all(), expected["answer"]["parts"], strict=True):
        expect(item.locator("blockquote")).to_have_text(part["text"])
        citation = part["citation"]
        expect(item.locator(".cite")).to_contain_text(citation["title"])
        expect(item.locator(".cite")).to_contain_text(citation["source"])
        expect(item.locator(".cite")).to_contain_text(
            f"{citation['doc_id']} · chars {citation['start']}–{citation['end']}"
        )
    expect(parts.first.locator("blockquote")).to_have_text(expected["answer"]["text"])
    expect(page.locator("#answer-text")).to_be_hidden()
    passages = page.locator("#passage-list > li")
    expect(passages).to_have_count(len(expected["passages"]))
    for item, result in zip(passages.all(), expected["passages"], strict=True):
        expect(item.locator(".rank")).to_have_text(str(result["rank"]))
        expect(item.locator(".passage-text")).to_have_text(result["text"])
        base, span = result["citation"]["start"], result["highlight"]
        expect(item.locator("mark")).to_have_text(
            result["text"][span["start"] - base : span["end"] - base]
        )
    expect(page.locator("#no-answer")).to_be_hidden()
    assert page.url.endswith("/?q=" + quote(PHASES, safe="").replace("%20", "+"))
    assert tab.console_errors == []


def test_a_citation_opens_the_document_with_the_cited_span_highlighted(
    tab: Tab, api: httpx.Client
) -> None:
    tab.open()
    tab.ask(PHASES)
    page = tab.page
    page.locator("#answer-parts .cite a").first.click()

    page.wait_for_url(re.compile(r"/view\?"))
    mark = page.locator("#doc-text mark")
    expect(mark).to_be_visible()
    expect(mark).to_be_in_viewport()
    answer = api.get("/ask", params={"q": PHASES}).json()["answer"]
    citation = answer["citation"]
    text = api.get(f"/documents/{citation['doc_id']}").json()["text"]
    expect(mark).to_have_text(text[citation["start"] : citation["end"]])
    expect(page.locator("#doc-text")).to_have_text(text)
    expect(page.locator("#doc-title")).to_have_text(citation["title"])

    page.locator("#back").click()
    expect(page.locator("#answer-parts blockquote").first).to_have_text(answer["text"])
    assert tab.console_errors == []


def test_markup_in_a_question_is_shown_as_text_never_run(tab: Tab) -> None:
    tab.open()
    tab.ask(HOSTILE)
    page = tab.page
    asked = page.locator("#asked:visible, #asked-none:visible")
    expect(asked).to_have_text(HOSTILE)
    tab.assert_nothing_injected()


def test_off_topic_question_shows_no_answer_with_the_reason(tab: Tab, api: httpx.Client) -> None:
    reason = api.get("/ask", params={"q": OFF_TOPIC}).json()["reason"]
    tab.open()
    tab.ask(OFF_TOPIC)
    expect(tab.page.locator("#no-answer")).to_be_visible()
    expect(tab.page.locator("#no-answer h2")).to_have_text("No answer in these articles")
    expect(tab.page.locator("#no-answer-reason")).to_have_text(reason)
    expect(tab.page.locator("#answer")).to_be_hidden()


def test_the_keyboard_alone_asks_and_opens_a_citation_with_visible_focus(tab: Tab) -> None:
    tab.open()
    tab.ask(PHASES)
    expect(tab.page.locator("#answer")).to_be_visible()
    focused = "[document.activeElement.textContent, getComputedStyle(document.activeElement)"
    focused += ".outlineStyle]"
    tab.page.keyboard.press("Tab")
    assert tab.page.evaluate(focused) == ["Ask", "solid"]
    tab.page.keyboard.press("Tab")
    assert tab.page.evaluate(focused) == ["Filters", "solid"]  # the collapsed filters
    tab.page.keyboard.press("Tab")
    title, outline = tab.page.evaluate(focused)
    assert title.startswith("U.S. sees promising") and outline == "solid"  # the answer's citation
    tab.page.keyboard.press("Enter")
    expect(tab.page.locator("#doc-text mark")).to_be_in_viewport()


def test_loading_shows_while_the_answer_is_on_its_way(tab: Tab) -> None:
    held: list[Route] = []
    tab.page.route(re.compile(r"/ask\?"), lambda route: held.append(route))
    tab.open()
    tab.ask(PHASES)
    expect(tab.page.locator("#notice")).to_have_class(re.compile("loading"))
    expect(tab.page.locator("#notice")).to_contain_text("Searching the articles")
    expect(tab.page.locator("body")).to_have_attribute("aria-busy", "true")
    held[0].continue_()
    expect(tab.page.locator("#answer")).to_be_visible()
    expect(tab.page.locator("#notice")).to_be_hidden()
    expect(tab.page.locator("body")).not_to_have_attribute("aria-busy", "true")


def test_filters_reach_the_api_and_the_url(tab: Tab, api: httpx.Client) -> None:
    tab.open()
    tab.page.locator("#filters summary").click()
    tab.page.locator("#f-source").fill("Nobody Weekly, Nobody Daily")
    tab.ask(PHASES)
    expect(tab.page.locator("#no-answer")).to_be_visible()
    reason = api.get("/ask", params={"q": PHASES, "source": "Nobody Weekly"}).json()["reason"]
    expect(tab.page.locator("#no-answer-reason")).to_have_text(reason)
    assert tab.page.url.endswith("source=Nobody+Weekly&source=Nobody+Daily")
    # The same URL, shared, restores the filters and asks with them.
    tab.open("/?" + tab.page.url.split("?", 1)[1])
    expect(tab.page.locator("#f-source")).to_have_value("Nobody Weekly, Nobody Daily")
    expect(tab.page.locator("#no-answer")).to_be_visible()
    tab.page.locator("#f-source").fill("")
    tab.page.locator("#f-after").fill("2030-01-01")
    tab.page.locator("#f-before").fill("2020-01-01")
    tab.ask(PHASES)
    expect(tab.page.locator("#notice.error")).to_contain_text("no article can match")
    tab.page.locator("#f-after").fill("")
    tab.page.locator("#f-before").fill("")
    tab.page.locator("#f-recency").select_option("strong")
    tab.ask(PHASES)
    expect(tab.page.locator("#answer")).to_be_visible()
    assert tab.page.url.endswith("recency=strong")
    tab.open("/?" + tab.page.url.split("?", 1)[1])
    expect(tab.page.locator("#f-recency")).to_have_value("strong")


def test_the_page_says_how_it_read_time_words(tab: Tab) -> None:
    tab.open("/?" + str(httpx.QueryParams({"q": "what did the allies hear this week?"})))
    expect(tab.page.locator("#interpreted")).to_contain_text("Read “this week” as published")
    tab.ask(PHASES)
    expect(tab.page.locator("#answer")).to_be_visible()
    expect(tab.page.locator("#interpreted")).to_be_hidden()


def test_a_shared_url_runs_its_question_on_load(tab: Tab) -> None:
    tab.open("/?" + str(httpx.QueryParams({"q": PHASES})))
    expect(tab.page.locator("#q")).to_have_value(PHASES)
    expect(tab.page.locator("#answer-parts").first).to_contain_text("phase")


def test_the_apis_error_detail_is_shown(tab: Tab) -> None:
    tab.open("/?q=" + "x" * 1001)
    expect(tab.page.locator("#notice.error")).to_contain_text("at most 1000 characters")
    tab.open("/view?doc=no/such/doc.txt&start=0&end=5")
    expect(tab.page.locator("#notice.error")).to_contain_text("no/such/doc.txt")


def test_index_status_is_shown_and_follows_a_reindex(tab: Tab, api: httpx.Client) -> None:
    ready = api.get("/ready").json()
    page = tab.page
    page.clock.install()
    tab.open()
    status = page.locator("#status")
    expect(status).to_contain_text(f"{ready['documents']} document")
    expect(status).to_contain_text(f"{ready['passages']} passages · updated")

    # The server keeps its one generation, so the next poll is answered as if one were built.
    reindexed = {**ready, "generation": "next", "documents": 2, "passages": 9}
    page.route("**/ready", lambda route: route.fulfill(json=reindexed))
    with page.expect_request(lambda request: request.url.endswith("/ready")):
        page.clock.run_for(10_000)
    expect(status).to_contain_text("2 documents · 9 passages · updated")
    assert tab.console_errors == []


def test_pages_and_assets_send_a_strict_content_security_policy(api: httpx.Client) -> None:
    for path in ["/", "/view", "/static/ask.js", "/static/style.css"]:
        response = api.get(path)
        assert response.status_code == 200
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
    for path in ["/", "/view"]:
        head = api.head(path)
        assert (
            head.status_code == 200
            and "default-src 'self'" in head.headers["content-security-policy"]
        )


def test_the_api_docs_render_offline_under_the_same_policy(tab: Tab, api: httpx.Client) -> None:
    """Swagger UI from this server's own files, no CDN (this machine has none to reach)."""
    blocked: list[str] = []
    tab.page.on(
        "request",
        lambda request: (
            None if request.url.startswith(tab.base_url) else blocked.append(request.url)
        ),
    )
    tab.open("/docs")
    operations = len(api.get("/openapi.json").json()["paths"])
    expect(tab.page.locator(".opblock-summary-path").first).to_be_visible()
    assert tab.page.locator(".opblock").count() >= operations
    assert blocked == [] and tab.console_errors == []
    csp = api.get("/docs").headers["content-security-policy"]
    assert csp == api.get("/").headers["content-security-policy"]
    assert api.get("/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_phone_width_page_fits_and_is_saved_as_screenshots(
    browser: Browser, seed_server: RunningServer
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for scheme in ["light", "dark"]:
        with open_tab(
            browser,
            seed_server.base_url,
            viewport={"width": 375, "height": 812},
            color_scheme=scheme,
            device_scale_factor=2,
        ) as tab:
            tab.open()
            tab.ask(PHASES)
            expect(tab.page.locator("#passage-list > li")).to_have_count(5)
            width = tab.page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, "the page scrolls sideways at phone width"
            tab.page.screenshot(path=ARTIFACTS / f"ask-phone-{scheme}.png")
            tab.page.locator("#answer-parts .cite a").first.click()
            expect(tab.page.locator("#doc-text mark")).to_be_in_viewport()
            tab.page.screenshot(path=ARTIFACTS / f"view-phone-{scheme}.png")


def test_desktop_screenshots(browser: Browser, seed_server: RunningServer) -> None:
    """docs/web-page.md's picture comes from here (test-artifacts/ask-desktop-light.png)."""
    ARTIFACTS.mkdir(exist_ok=True)
    for scheme in ["light", "dark"]:
        with open_tab(
            browser,
            seed_server.base_url,
            viewport={"width": 1100, "height": 900},
            color_scheme=scheme,
        ) as tab:
            tab.open("/?" + str(httpx.QueryParams({"q": PHASES})))
            expect(tab.page.locator("#passage-list > li")).to_have_count(5)
            tab.page.screenshot(path=ARTIFACTS / f"ask-desktop-{scheme}.png")
            tab.page.locator("#passage-list .cite-link").first.click()
            expect(tab.page.locator("#doc-text mark")).to_be_in_viewport()
            tab.page.evaluate("window.scrollTo(0, 0)")
            tab.page.screenshot(path=ARTIFACTS / f"view-desktop-{scheme}.png")


@pytest.fixture
def empty_server(tmp_path: Path, fake_embedder) -> Iterator[RunningServer]:
    settings = ServiceSettings(index_dir=tmp_path / "no-index", port=free_port())
    yield from serve(settings, fake_embedder)


def test_without_an_index_the_page_says_it_is_not_ready(
    browser: Browser, empty_server: RunningServer
) -> None:
    with open_tab(browser, empty_server.base_url) as tab:
        tab.open()
        expect(tab.page.locator("#status")).to_contain_text("Index not ready")
        tab.ask(PHASES)
        expect(tab.page.locator("#notice.error")).to_contain_text("Index not ready")
        expect(tab.page.locator("#answer")).to_be_hidden()


HOSTILE_DOC = {
    "_id": "world/odd id?#%.txt",
    "title": '<img src=x onerror="window.pwned=1;alert(3)">Hostile markup',
    "source": "<b>Evil Daily</b>",
    "url": "javascript:window.pwned=1",
    "text": (
        "Hostile markup arrives in scraped articles. "
        "<script>window.pwned=1;alert(4)</script> The page must show it as text. "
        "Readers check the cited span in context."
    ),
}


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """An index whose only article carries markup in its title, publisher, URL and text, under
    an id that needs URL-encoding."""
    folder = tmp_path_factory.mktemp("hostile")
    corpus = folder / "corpus.jsonl"
    corpus.write_text(json.dumps(HOSTILE_DOC) + "\n", encoding="utf-8")
    embedder = FakeEmbedder()
    build_index([corpus], IndexSettings(index_dir=folder / "index"), embedder, progress=False)
    settings = ServiceSettings(index_dir=folder / "index", port=free_port())
    yield from serve(settings, embedder)


def test_markup_in_articles_is_shown_as_text_never_run(
    browser: Browser, hostile_server: RunningServer
) -> None:
    with open_tab(browser, hostile_server.base_url) as tab:
        tab.open()
        tab.ask("hostile markup in scraped articles")
        page = tab.page
        passage = page.locator("#passage-list > li").first
        expect(passage.locator(".cite-link")).to_have_text(HOSTILE_DOC["title"])
        expect(passage.locator(".passage-text")).to_contain_text("<script>window.pwned=1;")
        expect(passage).to_contain_text(HOSTILE_DOC["source"])

        passage.locator(".cite-link").click()
        expect(page.locator("#doc-title")).to_have_text(HOSTILE_DOC["title"])
        expect(page.locator("#doc-text")).to_have_text(HOSTILE_DOC["text"])
        expect(page.locator("#doc-meta")).to_contain_text(HOSTILE_DOC["_id"])
        expect(page.locator("#doc-meta a")).to_have_count(0)  # no javascript: link
        tab.assert_nothing_injected()


@pytest.fixture(scope="module")
def syndicated_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    from tests.syndication import write_corpus

    folder = tmp_path_factory.mktemp("web-stories")
    write_corpus(folder / "corpus.jsonl")
    embedder = FakeEmbedder()
    build_index([folder / "corpus.jsonl"], IndexSettings(index_dir=folder / "i"), embedder)
    yield from serve(ServiceSettings(index_dir=folder / "i", port=free_port()), embedder)


def test_a_story_several_outlets_ran_shows_once_naming_the_others(
    browser: Browser, syndicated_server: RunningServer
) -> None:
    with open_tab(browser, syndicated_server.base_url) as tab:
        tab.open()
        tab.ask("How many survivors did rescue crews pull from the capsized ferry Aurora?")
        also = tab.page.locator(".passage .also-in")
        expect(also.first).to_have_text(re.compile(r"^Also in: (?:[A-Z][\w ]+, ){4}[A-Z][\w ]+$"))
        # Each passage of the copy shown names the same five others; no other copy is shown.
        assert len(set(also.all_text_contents())) == 1
        publishers = tab.page.locator(".passage .publisher").all_text_contents()
        wire = {" — AP", " — Boston Globe", " — Seattle Times", " — Yahoo News", " — MSN",
                " — The Guardian"}  # fmt: skip
        assert len(set(publishers) & wire) == 1
