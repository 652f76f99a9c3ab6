"""POST /admin/reindex and following generations built elsewhere, on a real server with the
fake embedder."""

import threading
import time
from pathlib import Path

import httpx
import pytest

from indexer import IndexSettings, IndexStore, build_index
from indexer.housekeeping import IndexLock
from indexer.store import TMP_PREFIX
from service.settings import ServiceSettings
from tests.conftest import (
    ADMIN_AUTH,
    ADMIN_KEY,
    SEEDS,
    FakeEmbedder,
    FullDiskEmbedder,
    RunningServer,
    free_port,
    serve,
    serve_sources,
)

KEY, AUTH = ADMIN_KEY, ADMIN_AUTH
ARTICLE = "Harbour news\n\nThe ferry to the island was cancelled. Storms are expected all week.\n"


@pytest.fixture
def server(keyed_server: RunningServer) -> RunningServer:
    return keyed_server


def test_reindex_needs_the_key(server: RunningServer) -> None:
    url = f"{server.base_url}/admin/reindex"
    assert httpx.post(url).status_code == 401
    wrong = httpx.post(url, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "API key" in wrong.json()["detail"]
    # A non-ASCII key, as raw UTF-8 bytes in the header, is a wrong key too, not a 500.
    mangled = httpx.post(url, headers={"Authorization": "Bearer clé-ü".encode()})
    assert mangled.status_code == 401 and "API key" in mangled.json()["detail"]


def test_reindex_is_disabled_without_a_configured_key(tmp_path: Path) -> None:
    settings = ServiceSettings(index_dir=tmp_path, port=free_port())
    for running in serve(settings, FakeEmbedder()):
        response = httpx.post(f"{running.base_url}/admin/reindex", headers=AUTH)
        assert response.status_code == 403 and "NEWSQA_API_KEY" in response.json()["detail"]


def test_reindex_reports_counts_and_serves_the_result_at_once(server: RunningServer) -> None:
    with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=30) as client:
        nothing = client.post("/admin/reindex").json()
        assert nothing["written"] is False and nothing["unchanged"] == 1
        (server.settings.sources[0] / "ferry.txt").write_text(ARTICLE, encoding="utf-8")
        body = client.post("/admin/reindex").json()
        assert (body["added"], body["changed"], body["deleted"], body["unchanged"]) == (1, 0, 0, 1)
        assert body["written"] is True and body["full"] is False and body["documents"] == 2
        assert client.get("/ready").json()["generation"] == body["generation"]
        hits = client.get("/search", params={"q": "ferry to the island cancelled"}).json()
        assert hits["results"][0]["citation"]["doc_id"] == "ferry.txt"


def test_concurrent_reindex_requests_run_one_at_a_time(server: RunningServer) -> None:
    responses: list[httpx.Response] = []

    def reindex() -> None:
        response = httpx.post(
            f"{server.base_url}/admin/reindex", params={"full": "true"}, headers=AUTH, timeout=60
        )
        responses.append(response)

    threads = [threading.Thread(target=reindex) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in responses] == [200] * 4
    assert len({r.json()["generation"] for r in responses}) == 4
    ready = httpx.get(f"{server.base_url}/ready").json()
    assert ready["generation"] in {r.json()["generation"] for r in responses}
    generations = IndexStore(server.settings.index_dir).generations_dir
    assert not [p for p in generations.iterdir() if p.name.startswith(TMP_PREFIX)]


def test_generation_built_by_another_process_is_picked_up(server: RunningServer) -> None:
    sources = server.settings.sources[0]
    (sources / "ferry.txt").write_text(ARTICLE, encoding="utf-8")
    settings = IndexSettings(index_dir=server.settings.index_dir)
    report = build_index([sources], settings, FakeEmbedder(), progress=False)
    deadline = time.monotonic() + 3
    while httpx.get(f"{server.base_url}/ready").json()["generation"] != report.manifest.generation:
        assert time.monotonic() < deadline, "the new generation was not served within 3 s"
        time.sleep(0.05)


def test_reindex_while_another_indexer_holds_the_lock_is_a_conflict(tmp_path: Path) -> None:
    settings = ServiceSettings(
        index_dir=tmp_path / "index",
        sources=[SEEDS],
        port=free_port(),
        api_key=KEY,
        lock_timeout_seconds=0.2,
    )
    for running in serve(settings, FakeEmbedder()):
        with IndexLock(settings.index_dir, timeout=1):
            response = httpx.post(f"{running.base_url}/admin/reindex", headers=AUTH)
        assert response.status_code == 409 and "another indexer" in response.json()["detail"]
        assert httpx.post(f"{running.base_url}/admin/reindex", headers=AUTH).json()["added"] == 1


def test_ready_says_the_generation_is_stale_while_reindexing_fails(tmp_path: Path) -> None:
    embedder = FullDiskEmbedder()
    for running in serve_sources(tmp_path, embedder):
        with httpx.Client(base_url=running.base_url, headers=AUTH, timeout=30) as client:
            assert client.get("/ready").json()["stale"] is False
            (running.settings.sources[0] / "ferry.txt").write_text(ARTICLE, encoding="utf-8")
            embedder.full = True
            assert client.post("/admin/reindex").status_code == 503
            ready = client.get("/ready")
            assert ready.status_code == 200  # the old generation still serves
            assert ready.json()["stale"] is True
            assert "No space left" in ready.json()["indexing_error"]
            embedder.full = False
            assert client.post("/admin/reindex").status_code == 200
            assert client.get("/ready").json()["stale"] is False
