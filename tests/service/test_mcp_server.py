"""The MCP server in-process, with the fake embedder: it follows the live index generation,
and the HTTP endpoint's API-key switch. Fast; the real transports are in test_mcp.py."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from mcp import Client

from indexer import IndexSettings, IndexStore, build_index
from service.api.app import create_app
from service.engine.live import LiveIndex
from service.mcp import build_server, following
from service.settings import ServiceSettings
from tests.conftest import SEED_ID, SEEDS, FakeEmbedder

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_tool_calls_follow_a_hot_swapped_generation(
    tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    index = IndexSettings(index_dir=tmp_path / "index")
    build_index([SEEDS], index, fake_embedder, progress=False)
    live = LiveIndex(IndexStore(index.index_dir), fake_embedder)
    assert live.refresh()
    server = build_server(live.searcher, ServiceSettings(index_dir=index.index_dir))
    extra = tmp_path / "more" / "volcano.txt"
    extra.parent.mkdir()
    extra.write_text("Volcano erupts\n\nA volcano erupted in Iceland on Monday.\n")

    async with Client(server) as client:
        before = await client.call_tool("get_document", {"doc_id": "volcano.txt"})
        assert before.is_error
        build_index([SEEDS, extra.parent], index, fake_embedder, progress=False)
        assert live.refresh()
        after = await client.call_tool("get_document", {"doc_id": "volcano.txt"})
        assert not after.is_error
        assert after.structured_content["title"] == "Volcano erupts"
        seed = await client.call_tool("get_document", {"doc_id": SEED_ID})
        assert not seed.is_error


async def test_without_an_index_tool_calls_say_how_to_build_one(
    tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    live = LiveIndex(IndexStore(tmp_path), fake_embedder)
    live.refresh()
    async with Client(build_server(live.searcher, ServiceSettings(index_dir=tmp_path))) as client:
        result = await client.call_tool("ask", {"question": "anything?"})
    assert result.is_error
    assert "python -m indexer" in result.content[0].text


async def test_the_stdio_server_picks_up_a_new_index_by_itself(
    tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    live = LiveIndex(IndexStore(tmp_path), fake_embedder)
    server = build_server(following(live), ServiceSettings(index_dir=tmp_path))
    async with Client(server) as client:
        assert (await client.call_tool("get_document", {"doc_id": SEED_ID})).is_error
        build_index([SEEDS], IndexSettings(index_dir=tmp_path), fake_embedder, progress=False)
        found = await client.call_tool("get_document", {"doc_id": SEED_ID})
    assert not found.is_error and found.structured_content["source"] == "NBCNews.com"


def test_required_api_key_without_a_configured_key_closes_the_endpoint(tmp_path: Path) -> None:
    settings = ServiceSettings(index_dir=tmp_path, mcp_require_api_key=True)
    response = TestClient(create_app(settings)).post("/mcp", json={})
    assert response.status_code == 403
    assert "NEWSQA_API_KEY" in response.json()["detail"]
