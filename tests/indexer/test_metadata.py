"""Metadata read from where articles carry it: JSONL fields, front matter, datelines, HTML
``<meta>`` tags and JSON-LD; dates stored as ISO 8601 whatever form they came in."""

import json
from pathlib import Path

import pytest

from indexer.documents import load_documents
from indexer.metadata import normalize_published

BODY = "The island ferry sailed again on Tuesday. Storms had kept it in port for nine days."


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2024-03-12", "2024-03-12"),
        ("2024-03-12T08:30:00Z", "2024-03-12T08:30:00+00:00"),
        ("March 12, 2024", "2024-03-12"),
        ("12 Mar 2024", "2024-03-12"),
        ("Tue, 12 Mar 2024 08:30:00 +0100", "2024-03-12T08:30:00+01:00"),
        ("yesterday", None),  # a stored relative date means nothing
        ("2024-02-30", None),
        ("not a date", None),
        (20240312, None),
    ],
)
def test_dates_are_stored_as_iso_8601(given: object, stored: str | None) -> None:
    assert normalize_published(given) == stored


def load(path: Path, name: str, content: str) -> dict:
    (path / name).write_text(content, encoding="utf-8")
    (doc,) = load_documents([path / name])
    return {
        "title": doc.title,
        "text": doc.text,
        "source": doc.source,
        "url": doc.url,
        "published": doc.published,
        "authors": doc.authors,
    }


def test_front_matter_gives_a_text_articles_metadata(tmp_path: Path) -> None:
    found = load(
        tmp_path,
        "ferry.md",
        "---\ntitle: Ferry sails again\nsource: Harbour Gazette\nurl: https://h.example/1\n"
        f"published: 2024-03-12\nauthors: [Ann Lee, Bo Kim]\n---\n{BODY}\n",
    )
    assert found == {
        "title": "Ferry sails again",
        "text": BODY,
        "source": "Harbour Gazette",
        "url": "https://h.example/1",
        "published": "2024-03-12",
        "authors": ("Ann Lee", "Bo Kim"),
    }


def test_a_dateline_under_the_title_gives_the_date(tmp_path: Path) -> None:
    found = load(tmp_path, "ferry.txt", f"Ferry sails again\nPublished March 12, 2024\n\n{BODY}\n")
    assert (found["title"], found["published"]) == ("Ferry sails again", "2024-03-12")
    plain = load(tmp_path, "plain.txt", f"Ferry sails again\n\n{BODY}\n")
    assert plain["published"] is None and plain["text"] == BODY


def test_html_json_ld_gives_time_authors_and_publisher(tmp_path: Path) -> None:
    article = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebPage", "name": "Harbour Gazette"},
            {
                "@type": "NewsArticle",
                "headline": "Ferry sails again",
                "datePublished": "2024-03-12T08:30:00+01:00",
                "author": [{"@type": "Person", "name": "Ann Lee"}],
                "publisher": {"@type": "Organization", "name": "Harbour Gazette"},
            },
        ],
    }
    page = (
        "<html><head><title>Ferry sails again</title>"
        f'<script type="application/ld+json">{json.dumps(article)}</script></head>'
        f"<body><article><h1>Ferry sails again</h1><p>{BODY}</p></article></body></html>"
    )
    found = load(tmp_path, "ferry.html", page)
    assert found["published"] == "2024-03-12T08:30:00+01:00"
    assert found["authors"] == ("Ann Lee",)
    meta = page.replace(
        "<title>", '<meta property="article:published_time" content="2024-03-11T20:00:00Z"><title>'
    )
    assert load(tmp_path, "meta.html", meta)["published"] == "2024-03-11T20:00:00+00:00"


def test_jsonl_dates_in_other_forms_are_normalized(tmp_path: Path) -> None:
    records = [
        {"_id": "a", "text": BODY, "published": "March 12, 2024", "author": "Ann Lee; Bo Kim"},
        {"_id": "b", "text": BODY, "published": "sometime"},
    ]
    (tmp_path / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    docs = {d.doc_id: d for d in load_documents([tmp_path / "c.jsonl"])}
    assert (docs["a"].published, docs["a"].authors) == ("2024-03-12", ("Ann Lee", "Bo Kim"))
    assert docs["b"].published is None
