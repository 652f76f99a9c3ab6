"""Serving replicas on Ray Serve (``python -m service --ray local --replicas 2``) on a real
local cluster: the API's core checks through Ray Serve's proxy, and a reindex during queries
that every replica follows without a failed request."""

import asyncio
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from indexer import IndexSettings, build_index
from service.settings import ServiceSettings
from service.testing import free_port
from tests.conftest import ADMIN_AUTH, ADMIN_KEY, SEED_ID, SEEDS
from tests.service.test_freshness import GLASS, GLASS_QUESTION, SteadyClient

pytestmark = pytest.mark.slow

PHASES = "what are the deal's phases?"
REPLICAS = 2


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Iterator[str]:
    ray = pytest.importorskip("ray")
    from service.replicas import start_replicas, stop_replicas

    folder = tmp_path_factory.mktemp("replicas")
    shutil.copytree(SEEDS, folder / "sources")
    settings = ServiceSettings(
        index_dir=folder / "index",
        sources=[folder / "sources"],
        port=free_port(),
        api_key=ADMIN_KEY,
        refresh_interval_seconds=0.2,
    )
    build_index(settings.sources, IndexSettings(**settings.model_dump()), real_embedder)
    start_replicas(settings, "local", REPLICAS)
    try:
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        stop_replicas()
        ray.shutdown()


def test_answers_and_citations_as_from_one_machine(cluster: str) -> None:
    with httpx.Client(base_url=cluster, timeout=60) as http:
        answer = http.get("/ask", params={"q": PHASES}).json()["answer"]
        assert len(answer["parts"]) == 2
        for part in answer["parts"]:
            doc = http.get(f"/documents/{part['citation']['doc_id']}").json()
            assert doc["text"][part["citation"]["start"] : part["citation"]["end"]] == part["text"]
        assert (
            http.get("/ask", params={"q": "how do I bake sourdough bread?"}).json()["answer"]
            is None
        )
        refused = http.get("/search", params={"q": "deal", "k": 0})
        assert refused.status_code == 422 and "k" in refused.json()["detail"]
        assert http.get("/documents/nobody").status_code == 404
        assert "<title>" in http.get("/").text


def test_the_mcp_tools_answer_through_the_replicas(cluster: str) -> None:
    from mcp import Client

    async def ask() -> Any:
        async with Client(f"{cluster}/mcp") as client:
            return await client.call_tool("ask", {"question": PHASES})

    result = asyncio.run(ask())
    assert not result.is_error, result.content
    assert len(result.structured_content["answer"]["parts"]) == 2


def test_a_reindex_reaches_every_replica_without_a_failed_request(cluster: str) -> None:
    with httpx.Client(base_url=cluster, timeout=60) as http, SteadyClient(cluster) as steady:
        before = http.get("/ready").json()["generation"]
        source = Path(http.get(f"/documents/{SEED_ID}").json()["path"]).parent
        (source / "glass.txt").write_text(GLASS, encoding="utf-8")
        done = http.post("/admin/reindex", headers=ADMIN_AUTH)
        assert done.status_code == 200, done.text
        generation = done.json()["generation"]
        assert generation != before
        deadline = time.monotonic() + 10
        seen: list[str] = []
        while time.monotonic() < deadline:
            seen = [http.get("/ready").json()["generation"] for _ in range(10 * REPLICAS)]
            if set(seen) == {generation}:
                break
            time.sleep(0.2)
        assert set(seen) == {generation}
        top = http.get("/search", params={"q": GLASS_QUESTION, "k": 1}).json()["results"][0]
        assert top["citation"]["doc_id"] == "glass.txt"
    assert steady.requests > 0 and steady.failures == []
