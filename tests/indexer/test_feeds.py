"""Feeds imported as pushed articles, from a real HTTP server on 127.0.0.1."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from indexer import IndexSettings, IndexStore, build_index
from indexer.__main__ import main
from indexer.errors import FeedUnavailable
from indexer.feeds import import_feed
from indexer.pushed import PushedArticles
from tests.conftest import FakeEmbedder

RSS = """<?xml version="1.0"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Harbour Gazette</title><link>http://harbour.example/</link>
<item>
  <title>Ferry service resumes</title><guid>harbour-ferry-1</guid>
  <link>{base}/articles/1.html</link>
  <pubDate>Tue, 12 Mar 2024 08:30:00 +0100</pubDate><dc:creator>Ann Lee</dc:creator>
  <content:encoded><![CDATA[<p>The island ferry sailed again on Tuesday.</p>
  <p>Storms had kept it in port for <b>nine days</b>.</p>]]></content:encoded>
</item>
<item>
  <title>Lighthouse sold</title><link>{base}/articles/2.html</link>
  <description>The old lighthouse has a new owner...</description>
</item>
<item><title>No link, no id, no text</title></item>
</channel></rss>"""
ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Coast Wire</title>
<id>urn:coast</id><updated>2024-03-13T10:00:00Z</updated>
<entry><title>Fishermen protest quotas</title><id>urn:coast:7</id>
<updated>2024-03-13T10:00:00Z</updated><author><name>Bo Kim</name></author>
<summary>Fishermen blocked the harbour on Wednesday to protest new quotas.</summary></entry>
</feed>"""
PAGE = """<html><head><title>Lighthouse sold</title></head><body><article><h1>Lighthouse sold</h1>
<p>The old lighthouse on the north cape was sold at auction on Monday for 1.2 million euros.</p>
<p>The buyer, a foundation, plans to open a museum of navigation there next summer.</p>
</article></body></html>"""


class Site(BaseHTTPRequestHandler):
    pages: ClassVar[dict[str, tuple[str, str]]] = {}

    def do_GET(self) -> None:
        page = self.pages.get(self.path)
        if page is None:
            self.send_error(404)
            return
        body = page[1].encode()
        self.send_response(200)
        self.send_header("Content-Type", page[0])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    Site.pages = {
        "/rss.xml": ("application/rss+xml", RSS.format(base=base)),
        "/atom.xml": ("application/atom+xml", ATOM),
        "/articles/2.html": ("text/html", PAGE),
    }
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    server.server_close()


def documents(index_dir: Path) -> dict:
    embedder = FakeEmbedder()
    build_index([], IndexSettings(index_dir=index_dir), embedder, progress=False)
    snapshot = IndexStore(index_dir).open(embedder.name, embedder.dimension)
    return {doc.doc_id: doc for doc in snapshot.documents}


def test_rss_and_atom_entries_become_documents_with_their_metadata(
    site: str, tmp_path: Path
) -> None:
    articles = PushedArticles(tmp_path)
    rss = import_feed(f"{site}/rss.xml", articles)
    assert (rss.entries, rss.skipped) == (3, 1)
    import_feed(f"{site}/atom.xml", articles)
    docs = documents(tmp_path)
    ferry = docs["harbour-ferry-1"]
    assert ferry.title == "Ferry service resumes" and ferry.source == "Harbour Gazette"
    assert ferry.published == "2024-03-12T07:30:00+00:00" and ferry.authors == ("Ann Lee",)
    assert ferry.url == f"{site}/articles/1.html"
    assert ferry.text == (
        "The island ferry sailed again on Tuesday.\n\nStorms had kept it in port for nine days."
    )
    # No id: the link is the id; the teaser is the text unless pages are fetched.
    assert docs[f"{site}/articles/2.html"].text == "The old lighthouse has a new owner..."
    wire = docs["urn:coast:7"]
    assert (wire.source, wire.authors) == ("Coast Wire", ("Bo Kim",))
    assert wire.published == "2024-03-13T10:00:00+00:00"


def test_fetched_pages_replace_teasers_and_unchanged_entries_are_not_rewritten(
    site: str, tmp_path: Path
) -> None:
    articles = PushedArticles(tmp_path)
    first = import_feed(f"{site}/rss.xml", articles, fetch_pages=True)
    assert len(first.stored) == 2
    lighthouse = documents(tmp_path)[f"{site}/articles/2.html"]
    assert "1.2 million euros" in lighthouse.text and "museum of navigation" in lighthouse.text
    # Page 1 is missing (404): that entry keeps its own text.
    assert "nine days" in documents(tmp_path)["harbour-ferry-1"].text
    assert import_feed(f"{site}/rss.xml", articles, fetch_pages=True).stored == []


def test_a_feed_that_cannot_be_had_is_one_error(site: str, tmp_path: Path) -> None:
    with pytest.raises(FeedUnavailable, match="cannot fetch the feed"):
        import_feed(f"{site}/missing.xml", PushedArticles(tmp_path))
    with pytest.raises(FeedUnavailable, match="is not a feed"):
        import_feed(f"{site}/articles/2.html", PushedArticles(tmp_path))


@pytest.mark.slow
def test_the_command_imports_then_builds(
    site: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index_dir = tmp_path / "index"
    assert main(["--feed", f"{site}/atom.xml", "--index-dir", str(index_dir), "-q"]) == 0
    out = capsys.readouterr().out
    assert "1 entries, 1 new or changed" in out and "-> generation" in out
    assert main(["--feed", f"{site}/missing.xml", "--index-dir", str(index_dir), "-q"]) == 1
    assert "error: cannot fetch the feed" in capsys.readouterr().err


def test_every_round_imports_again_and_a_failing_feed_does_not_stop_the_loop(
    site: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from indexer.feeds import follow_feeds

    rounds: list[int] = []

    class Enough(Exception):
        pass

    def build() -> None:
        rounds.append(len(list((tmp_path / "pushed").glob("*.jsonl"))))
        if len(rounds) == 2:
            raise Enough

    feeds = [f"{site}/missing.xml", f"{site}/atom.xml"]
    with pytest.raises(Enough):
        follow_feeds(feeds, tmp_path, fetch_pages=False, every=0.01, build=build)
    assert rounds == [1, 1]  # built after each round; the broken feed reported, not fatal
    printed = capsys.readouterr()
    assert printed.err.count("error: cannot fetch the feed") == 2
    assert "1 entries, 1 new or changed" in printed.out
    assert "1 entries, 0 new or changed" in printed.out
