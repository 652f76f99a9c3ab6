"""``GET /documents``: pages of the indexed documents, filtered, newest first, with when each
was indexed; on a real server with the fake embedder."""

import json
import time
from pathlib import Path

import httpx
import pytest

from indexer import IndexSettings, build_index
from service.client import NewsQAClient
from service.settings import ServiceSettings
from tests.conftest import FakeEmbedder, RunningServer, free_port, serve

ARTICLES = [
    ("ap/1", "AP", "2024-07-03T10:00:00+00:00", "Ferry cancelled as storms hit the island."),
    ("ap/2", "AP", "2024-07-01", "The harbour reopened after repairs to the pier."),
    ("reuters/1", "Reuters", "2024-07-02T08:00:00Z", "Markets rose on hopes of a rate cut."),
    ("notes/1", None, None, "An undated note about the town's library opening hours."),
]


def _write(corpus: Path, articles) -> None:
    lines = [
        json.dumps({"id": i, "title": f"Story {i}", "text": text, "source": s, "published": p})
        for i, s, p, text in articles
    ]
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def server(tmp_path: Path):
    corpus = tmp_path / "corpus.jsonl"
    _write(corpus, ARTICLES)
    build_index(
        [corpus], IndexSettings(index_dir=tmp_path / "index"), FakeEmbedder(), progress=False
    )
    settings = ServiceSettings(index_dir=tmp_path / "index", sources=[corpus], port=free_port())
    yield from serve(settings, FakeEmbedder())


def test_documents_are_listed_newest_first_with_their_metadata(server: RunningServer) -> None:
    listing = httpx.get(f"{server.base_url}/documents").json()
    assert [d["doc_id"] for d in listing["documents"]] == ["ap/1", "reuters/1", "ap/2", "notes/1"]
    assert (listing["total"], listing["offset"], listing["next_offset"]) == (4, 0, None)
    first = listing["documents"][0]
    assert first["source"] == "AP" and first["passages"] >= 1 and len(first["content_hash"]) == 64
    assert first["indexed_at"] and "text" not in first
    whole = httpx.get(f"{server.base_url}/documents/ap/1").json()
    assert whole["indexed_at"] == first["indexed_at"]


def test_filters_and_pages(server: RunningServer) -> None:
    with NewsQAClient(server.base_url) as client:
        ap = client.documents(source=["ap"])  # case-insensitive, as in search
        assert [d.doc_id for d in ap.documents] == ["ap/1", "ap/2"]
        july2 = client.documents(published_after="2024-07-02", published_before="2024-07-02")
        assert [d.doc_id for d in july2.documents] == ["reuters/1"]
        assert [d.doc_id for d in client.documents(doc_id_prefix="notes/").documents] == ["notes/1"]
        pages, offset = [], 0
        while offset is not None:
            page = client.documents(limit=3, offset=offset)
            pages.append([d.doc_id for d in page.documents])
            offset = page.next_offset
        assert pages == [["ap/1", "reuters/1", "ap/2"], ["notes/1"]]


@pytest.mark.parametrize(
    ("query", "mentions"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("offset=-1", "offset"),
        ("published_after=2024-07-05&published_before=2024-07-01", "no article can match"),
        ("q=ferry", "q"),
    ],
)
def test_bad_parameters_are_a_422_naming_them(server: RunningServer, query, mentions) -> None:
    response = httpx.get(f"{server.base_url}/documents?{query}")
    assert response.status_code == 422 and mentions in response.json()["detail"]


def test_an_unchanged_document_keeps_when_it_was_indexed(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    _write(corpus, ARTICLES)
    settings = IndexSettings(index_dir=tmp_path / "index", generation_grace_seconds=0)
    build_index([corpus], settings, FakeEmbedder(), progress=False)
    time.sleep(1.1)  # generation names and build times have one-second steps
    changed = [(*ARTICLES[0][:3], "Ferry service resumed after the storms."), *ARTICLES[1:]]
    _write(corpus, changed)
    build_index([corpus], settings, FakeEmbedder(), progress=False)
    service = ServiceSettings(index_dir=tmp_path / "index", port=free_port())
    for running in serve(service, FakeEmbedder()):
        listed = {
            d["doc_id"]: d for d in httpx.get(f"{running.base_url}/documents").json()["documents"]
        }
    assert listed["ap/1"]["indexed_at"] > listed["ap/2"]["indexed_at"]
    assert listed["ap/2"]["indexed_at"] == listed["reuters/1"]["indexed_at"]
