"""The HTTP API against a real uvicorn server on 127.0.0.1, over an index of seeds/ built
with the real model."""

import httpx
import pytest

from tests.conftest import SEED_ID, RunningServer

pytestmark = pytest.mark.slow

PHASES = "what are the deal's phases?"


@pytest.fixture(scope="module")
def client(seed_server: RunningServer):
    with httpx.Client(base_url=seed_server.base_url, timeout=30) as http:
        yield http


def verify(client: httpx.Client, citation: dict, text: str) -> None:
    doc = client.get(f"/documents/{citation['doc_id']}").json()
    assert doc["text"][citation["start"] : citation["end"]] == text


def test_deals_phases_question_finds_both_phases(client: httpx.Client) -> None:
    response = client.get("/ask", params={"q": PHASES})
    assert response.status_code == 200
    body = response.json()
    parts = body["answer"]["parts"]
    assert [part["text"] for part in parts][:1] == [body["answer"]["text"]]
    assert len(parts) == 2
    assert "first phase of the deal" in parts[0]["text"]
    assert "second phase of the deal" in parts[1]["text"]
    for part in parts:
        verify(client, part["citation"], part["text"])


def test_a_question_for_one_thing_is_answered_in_one_part(client: httpx.Client) -> None:
    answer = client.get("/ask", params={"q": "Who is Hersh Goldberg-Polin?"}).json()["answer"]
    assert "Goldberg-Polin" in answer["text"]
    assert [part["text"] for part in answer["parts"]] == [answer["text"]]


def test_citations_round_trip_through_documents_endpoint(client: httpx.Client) -> None:
    body = client.post("/ask", json={"question": PHASES, "k": 5}).json()
    verify(client, body["answer"]["citation"], body["answer"]["text"])
    for result in body["passages"]:
        verify(client, result["citation"], result["text"])
        citation, highlight = result["citation"], result["highlight"]
        assert citation["start"] <= highlight["start"] < highlight["end"] <= citation["end"]
        assert citation["title"].startswith("U.S. sees promising")
        assert citation["source"] == "NBCNews.com"


def test_every_citation_says_how_fresh_its_quote_is(client: httpx.Client) -> None:
    """A client can tell a stale quote: each citation names its generation and the document's
    content hash, which GET /documents/{id} repeats while the quote holds."""
    generation = client.get("/ready").json()["generation"]
    body = client.get("/ask", params={"q": PHASES}).json()
    citations = [body["answer"]["citation"]] + [r["citation"] for r in body["passages"]]
    for citation in citations:
        doc = client.get(f"/documents/{citation['doc_id']}").json()
        assert citation["generation"] == generation
        assert len(citation["content_hash"]) == 64
        for field in ("content_hash", "indexed_at", "published", "url", "source", "title"):
            assert citation[field] == doc[field], field
    assert citations[0]["indexed_at"]


def test_search_ranks_and_shapes_results(client: httpx.Client) -> None:
    body = client.get("/search", params={"q": "How many people have been killed in Gaza?", "k": 3})
    assert body.status_code == 200
    data = body.json()
    assert [r["rank"] for r in data["results"]] == [1, 2, 3]
    scores = [r["score"] for r in data["results"]]
    assert scores == sorted(scores, reverse=True)
    top = data["results"][0]
    assert "38,000" in top["text"]
    assert data["took_ms"] >= 0


def test_off_topic_question_abstains_with_a_reason(client: httpx.Client) -> None:
    body = client.get("/ask", params={"q": "how do I bake sourdough bread?"}).json()
    assert body["answer"] is None
    assert body["reason"]


def test_boilerplate_is_never_a_passage(client: httpx.Client) -> None:
    body = client.get(
        "/search", params={"q": "Source link About The Author Scroll to Top", "k": 50}
    )
    for result in body.json()["results"]:
        assert "Scroll to Top" not in result["text"] and "Source link" not in result["text"]


def test_document_ids_with_slashes_and_unknown_ids(client: httpx.Client) -> None:
    assert client.get(f"/documents/{SEED_ID}").json()["source"] == "NBCNews.com"
    missing = client.get("/documents/no/such/doc.txt")
    assert missing.status_code == 404
    assert "no/such/doc.txt" in missing.json()["detail"]


def test_health_and_ready(client: httpx.Client) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready").json()
    assert ready["documents"] == 1 and ready["passages"] > 3
    assert ready["model"] == "all-MiniLM-L6-v2" and ready["generation"]
    assert client.get("/docs").status_code == 200
    assert "/ask" in client.get("/openapi.json").json()["paths"]
