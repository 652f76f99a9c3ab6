import json
import logging
from pathlib import Path

from indexer.cleaning import clean_article
from indexer.documents import load_documents
from indexer.sentences import sentence_spans
from tests.conftest import SEED_ID, SEEDS


def test_seed_article_loads_with_title_source_and_no_boilerplate() -> None:
    (doc,) = list(load_documents([SEEDS]))
    assert doc.doc_id == SEED_ID
    assert doc.title.startswith("U.S. sees promising 'breakthrough'")
    assert doc.source == "NBCNews.com"
    for furniture in ("Source link", "About The Author", "Scroll to Top", "originally published"):
        assert furniture not in doc.text
    assert doc.text.endswith("close this out.”")


def test_attribution_line_becomes_source_not_text() -> None:
    cleaned = clean_article("Body.\n\nThis article was originally published on Reuters.com\n")
    assert cleaned.text == "Body."
    assert cleaned.source == "Reuters.com"


def test_folder_ids_are_relative_paths_and_other_files_are_skipped(tmp_path: Path, caplog) -> None:
    (tmp_path / "world").mkdir()
    (tmp_path / "world" / "a.md").write_text("# Title A\n\nBody of a.\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("\n\nTitle B\nBody of b.\n", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"Title\n\xff\xfe not utf-8 \x80\n")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / ".hidden.txt").write_text("Secret\nno\n", encoding="utf-8")
    with caplog.at_level(logging.INFO):
        docs = {d.doc_id: d for d in load_documents([tmp_path])}
    assert set(docs) == {"world/a.md", "b.txt"}
    assert docs["world/a.md"].title == "Title A"
    assert docs["b.txt"].title == "Title B"
    assert docs["b.txt"].text == "Body of b."
    assert "bad.txt" in caplog.text and "UTF-8" in caplog.text
    assert "image.png" in caplog.text and "unsupported" in caplog.text


def test_jsonl_corpus_uses_record_ids_and_skips_bad_lines(tmp_path: Path, caplog) -> None:
    lines = [
        json.dumps({"_id": "x/1", "title": "X", "text": "Hello there.", "url": "http://x"}),
        "{not json",
        json.dumps({"id": 7, "text": "Numbered id."}),
        json.dumps({"_id": "no-text"}),
    ]
    (tmp_path / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        docs = list(load_documents([tmp_path / "corpus.jsonl"]))
    assert [d.doc_id for d in docs] == ["x/1", "7"]
    assert docs[0].url == "http://x" and docs[0].title == "X"
    assert "line 2" in caplog.text and "line 4" in caplog.text


def test_html_main_text_is_extracted_without_navigation(tmp_path: Path) -> None:
    body = " ".join(["The council approved the new budget after a long debate."] * 6)
    html = (
        "<html><head><title>Budget passes</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
        f"<article><h1>Budget passes</h1><p>{body}</p><p>{body}</p></article>"
        "<footer>Copyright 2024 Example News. All rights reserved.</footer></body></html>"
    )
    (tmp_path / "page.html").write_text(html, encoding="utf-8")
    (doc,) = list(load_documents([tmp_path]))
    assert doc.title == "Budget passes"
    assert "council approved the new budget" in doc.text
    assert "Home" not in doc.text and "Copyright" not in doc.text


def test_headings_are_sentences_of_their_own_never_glued_to_the_text_below(
    tmp_path: Path,
) -> None:
    body = "All schools in the district will stay closed until Wednesday, officials said."
    html = (
        "<html><head><title>Storm hits coast</title></head><body><article>"
        "<h1>Storm hits coast</h1><p>A powerful storm hit the coast on Monday, cutting power "
        f"to thousands of homes.</p><h2>Schools closed</h2><p>{body}</p></article></body></html>"
    )
    (tmp_path / "page.html").write_text(html, encoding="utf-8")
    (tmp_path / "note.md").write_text(
        f"Storm notes\n\n## Schools closed\n{body}\n", encoding="utf-8"
    )
    for doc in load_documents([tmp_path]):
        sentences = [doc.text[a:b] for a, b in sentence_spans(doc.text)]
        assert body in sentences, sentences  # the heading is not its first words
        assert not doc.text.startswith("Storm hits coast")  # the title, not repeated in the text


def test_content_hash_changes_with_text_only() -> None:
    a = next(iter(load_documents([SEEDS])))
    from dataclasses import replace

    assert replace(a, content_hash="").content_hash == a.content_hash
    assert replace(a, text=a.text + " More.", content_hash="").content_hash != a.content_hash


def test_prompts_that_lead_elsewhere_are_dropped_but_article_text_that_resembles_them_is_kept() -> (
    None
):
    raw = (
        "The Bucks trail 3-1.\n"
        "More: 'It's not over': Bucks must overcome history\n"
        "Follow every game: Latest NBA Scores and Schedules\n"
        "Sign up for our daily newsletter.\n"
        "Subscribers will be refunded, the league said.\n"
        "More than 30 teams have tried."
    )
    assert clean_article(raw).text == (
        "The Bucks trail 3-1.\nSubscribers will be refunded, the league said.\n"
        "More than 30 teams have tried."
    )
