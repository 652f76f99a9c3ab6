"""Articles pushed over HTTP, through the real server and the real model: searchable when the
push answers (within 3 s), with no failed request meanwhile; kept by a restart and a full
rebuild; gone for good once deleted."""

import json
import time
from pathlib import Path

import httpx
import pytest

from indexer import build_index
from tests.conftest import ADMIN_AUTH, ADMIN_KEY, SEED_ID, serve, serve_sources
from tests.service.test_freshness import VISIBLE_WITHIN, SteadyClient

pytestmark = pytest.mark.slow

GLASS = {
    "doc_id": "cms/2024/glass",
    "title": "Glassblowers end strike",
    "text": (
        "The glassblowers of Murano ended their nine-week strike on Tuesday. The furnace "
        "owners agreed to raise wages by twelve percent."
    ),
    "source": "Laguna Post",
    "url": "https://laguna.example/glass",
    "published": "2024-03-12T09:30:00+01:00",
    "authors": ["Giulia Rossi"],
}
GLASS_QUESTION = "Why did the Murano glassblowers end their strike?"
LIGHTHOUSE = {
    "doc_id": "cms/2024/lighthouse",
    "title": "Talks in a lighthouse",
    "text": "The negotiators met in a disused lighthouse on the coast of Zanzibar on Friday.",
}


def top_doc_ids(http: httpx.Client, question: str) -> list[str]:
    results = http.get("/search", params={"q": question, "k": 3}).json()["results"]
    return [r["citation"]["doc_id"] for r in results]


def test_pushed_articles_are_searchable_at_once_and_survive_restarts_and_full_rebuilds(
    tmp_path: Path, real_embedder
) -> None:
    servers = serve_sources(tmp_path, real_embedder)
    server = next(servers)
    with (
        httpx.Client(base_url=server.base_url, timeout=30) as http,
        SteadyClient(server.base_url) as steady,
    ):
        began = time.monotonic()
        pushed = http.post("/documents", json={"documents": [GLASS]}, headers=ADMIN_AUTH)
        took = time.monotonic() - began
        assert pushed.status_code == 200, pushed.text
        assert pushed.json()["doc_ids"] == [GLASS["doc_id"]]
        assert pushed.json()["reindex"]["added"] == 1
        assert took < VISIBLE_WITHIN
        assert top_doc_ids(http, GLASS_QUESTION)[0] == GLASS["doc_id"]
        doc = http.get(f"/documents/{GLASS['doc_id']}").json()
        assert (doc["source"], doc["url"], doc["published"], doc["authors"]) == (
            GLASS["source"],
            GLASS["url"],
            GLASS["published"],
            GLASS["authors"],
        )
        # JSONL, one document a line; then the first one deleted.
        jsonl = "\n".join(json.dumps(d) for d in (LIGHTHOUSE,)) + "\n"
        pushed = http.post(
            "/documents",
            content=jsonl,
            headers={**ADMIN_AUTH, "Content-Type": "application/x-ndjson"},
        )
        assert pushed.status_code == 200, pushed.text
        assert top_doc_ids(http, "Where did the negotiators meet?")[0] == LIGHTHOUSE["doc_id"]
        deleted = http.delete(f"/documents/{GLASS['doc_id']}", headers=ADMIN_AUTH)
        assert deleted.status_code == 200 and deleted.json()["reindex"]["deleted"] == 1
        assert GLASS["doc_id"] not in top_doc_ids(http, GLASS_QUESTION)
        assert http.get(f"/documents/{GLASS['doc_id']}").status_code == 404
    assert steady.requests > 0 and steady.failures == []
    servers.close()

    # A full rebuild from the sources alone, then a restart: the pushed article stays, the
    # deleted one stays gone.
    settings = server.settings
    build_index(settings.sources, settings, real_embedder, progress=False, full=True)
    for again in serve(settings, real_embedder):
        with httpx.Client(base_url=again.base_url, timeout=30) as http:
            assert http.get(f"/documents/{LIGHTHOUSE['doc_id']}").status_code == 200
            assert http.get(f"/documents/{GLASS['doc_id']}").status_code == 404
            assert http.get(f"/documents/{SEED_ID}").status_code == 200


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        ({"documents": [GLASS, GLASS]}, {}, 422, "ids given more than once: cms/2024/glass"),
        ({"documents": [{**GLASS, "published": "yesterday"}]}, {}, 422, "not an ISO 8601"),
        ({"documents": [{**GLASS, "text": "Source link"}]}, {}, 422, "once boilerplate"),
        ({"documents": []}, {}, 422, "documents: List should have at least 1 item"),
        ({"documents": [{**GLASS, "doc_id": SEED_ID}]}, {}, 409, "change or delete that file"),
        ("hello", {"Content-Type": "text/plain"}, 415, "cannot read a text/plain body"),
        ('{"doc_id": "a"}\n', {"Content-Type": "application/x-ndjson"}, 422, "line 1: text"),
    ],
)
def test_bad_pushes_are_refused_with_a_reason_and_change_nothing(
    keyed_server, body, headers, status: int, message: str
) -> None:
    with httpx.Client(base_url=keyed_server.base_url, headers=ADMIN_AUTH) as http:
        before = http.get("/ready").json()["generation"]
        if isinstance(body, str):
            response = http.post("/documents", content=body, headers=headers)
        else:
            response = http.post("/documents", json=body)
        assert response.status_code == status, response.text
        assert message in response.json()["detail"]
        assert http.get("/ready").json()["generation"] == before


def test_the_client_pushes_and_deletes(keyed_server) -> None:
    from service.client import APIError, NewsQAClient

    with NewsQAClient(keyed_server.base_url, api_key=ADMIN_KEY) as client:
        assert client.push([LIGHTHOUSE]).doc_ids == [LIGHTHOUSE["doc_id"]]
        assert client.document(LIGHTHOUSE["doc_id"]).title == LIGHTHOUSE["title"]
        assert client.delete(LIGHTHOUSE["doc_id"]).reindex.deleted == 1
        with pytest.raises(APIError) as refused:
            client.delete(LIGHTHOUSE["doc_id"])
    assert refused.value.status_code == 404


def test_deletes_need_the_key_and_a_pushed_document(keyed_server) -> None:
    with httpx.Client(base_url=keyed_server.base_url) as http:
        assert http.delete("/documents/nobody").status_code == 401
        assert http.post("/documents", json={"documents": [GLASS]}).status_code == 401
        unknown = http.delete("/documents/nobody", headers=ADMIN_AUTH)
        assert unknown.status_code == 404
        seed = http.delete(f"/documents/{SEED_ID}", headers=ADMIN_AUTH)
        assert seed.status_code == 409 and "comes from" in seed.json()["detail"]
