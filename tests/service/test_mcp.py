"""The MCP server driven by the SDK's own client over both transports: stdio (a subprocess,
as a desktop chat host launches it) and streamable HTTP at /mcp of a real uvicorn server.
Both answer from an index of seeds/ built with the real model."""

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from service.schemas import AskResponse, DocumentResponse, SearchRequest, SearchResponse
from service.settings import ServiceSettings
from service.tools import TOOLS, json_schema, quote
from tests.conftest import REPO, SEED_ID, RunningServer, free_port, serve

pytestmark = [pytest.mark.slow, pytest.mark.anyio]

PHASES = "what are the deal's phases?"


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module", params=["stdio", "http"])
async def mcp(
    request: pytest.FixtureRequest,
    seed_index: Path,
    seed_server: RunningServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Client]:
    """One connected client per transport for the whole module (the stdio server process
    loads its own copy of the model, once). stdio speaks the initialize handshake that
    desktop hosts use today; HTTP lets the client negotiate, which picks the newest protocol."""
    if request.param == "http":
        async with Client(f"{seed_server.base_url}/mcp") as client:
            yield client
        return
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "service.mcp", "--index-dir", str(seed_index)],
        cwd=REPO,
    )
    # The server logs to stderr; keep it in a file rather than in pytest's captured streams.
    errlog = tmp_path_factory.mktemp("mcp-stdio") / "stderr.log"
    with errlog.open("w") as stderr:
        async with Client(stdio_client(params, errlog=stderr), mode="legacy") as client:
            yield client


async def call(mcp: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await mcp.call_tool(tool, arguments)
    assert not result.is_error, result.content
    structured: dict[str, Any] = result.structured_content
    return structured


async def test_lists_the_three_tools_with_schemas_from_the_api_models(mcp: Client) -> None:
    tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}
    assert set(tools) == {"search", "ask", "get_document"}
    assert tools["search"].input_schema == json_schema(SearchRequest)
    for name, tool in tools.items():
        assert tool.output_schema == TOOLS[name].output_schema()
        assert tool.description and "cite" in tool.description
        assert tool.annotations and tool.annotations.read_only_hint


async def test_ask_answers_the_phases_question_with_citations_that_verify(mcp: Client) -> None:
    result = await mcp.call_tool("ask", {"question": PHASES, "k": 5})
    answer = AskResponse.model_validate(result.structured_content)
    assert answer.answer is not None and "phase" in answer.answer.text
    parts = [part.text for part in answer.answer.parts]
    assert len(parts) == 2 and parts[0] == answer.answer.text
    assert "first phase of the deal" in parts[0] and "second phase of the deal" in parts[1]

    document = DocumentResponse.model_validate(
        await call(mcp, "get_document", {"doc_id": answer.answer.citation.doc_id})
    )
    cited = [(answer.answer.citation, answer.answer.text)]
    cited += [(p.citation, p.text) for p in answer.answer.parts]
    cited += [(p.citation, p.text) for p in answer.passages]
    for citation, text in cited:
        assert citation.doc_id == document.doc_id == SEED_ID
        assert document.text[citation.start : citation.end] == text

    # The text rendering is what a model quotes: the answer's parts, each cited, then
    # numbered passages.
    lines = result.content[0].text.splitlines()
    assert lines[0] == f"Answer, in 2 parts (confidence {answer.answer.confidence:.2f}):"
    for number, (line, part) in enumerate(zip(lines[1:3], answer.answer.parts, strict=True), 1):
        citation = part.citation
        assert line.startswith(f"{number}. {quote(part.text)} — {citation.title}")
        assert line.endswith(f"({SEED_ID}, chars {citation.start}–{citation.end})")
    text = "\n".join(lines)
    numbered = [line for line in text.splitlines() if line.startswith("[")]
    assert [line.split("]")[0] for line in numbered] == ["[1", "[2", "[3", "[4", "[5"]


async def test_search_returns_what_the_http_api_returns(
    mcp: Client, seed_server: RunningServer
) -> None:
    query = {"query": "How many people have been killed in Gaza?", "k": 3}
    over_mcp = SearchResponse.model_validate(await call(mcp, "search", query))
    over_http = SearchResponse.model_validate(
        httpx.post(f"{seed_server.base_url}/search", json=query, timeout=30).json()
    )
    assert [(r.citation, r.highlight, r.text) for r in over_mcp.results] == [
        (r.citation, r.highlight, r.text) for r in over_http.results
    ]
    assert [r.score for r in over_mcp.results] == pytest.approx(
        [r.score for r in over_http.results], abs=1e-3
    )


async def test_off_topic_question_abstains_with_a_reason(mcp: Client) -> None:
    result = await mcp.call_tool("ask", {"question": "how do I bake sourdough bread?"})
    assert not result.is_error
    assert result.structured_content["answer"] is None
    assert result.content[0].text.startswith("No answer in these articles: ")


@pytest.mark.parametrize(
    ("tool", "arguments", "mentions"),
    [
        ("ask", {"question": ""}, "question"),
        ("ask", {"question": " \n\t "}, "question"),
        ("ask", {}, "question: Field required"),
        ("ask", {"question": "deal", "k": 0}, "k: Input should be greater than or equal to 1"),
        ("ask", {"question": "deal", "k": 51}, "k"),
        ("ask", {"question": "deal", "k": "5"}, "k: Input should be a valid integer"),
        ("search", {"query": 42}, "query"),
        ("search", {"query": "x" * 1001}, "1000"),
        ("search", {"question": "wrong field"}, "query"),
        ("get_document", {"doc_id": "no/such/doc.txt"}, "no/such/doc.txt"),
    ],
)
async def test_bad_arguments_are_tool_errors_with_a_message(
    mcp: Client, tool: str, arguments: dict[str, Any], mentions: str
) -> None:
    result = await mcp.call_tool(tool, arguments)
    assert result.is_error
    assert mentions in result.content[0].text


async def test_unknown_tool_is_a_protocol_error(mcp: Client) -> None:
    with pytest.raises(MCPError, match="unknown tool"):
        await mcp.call_tool("delete_everything", {})


@pytest.fixture(scope="module")
def locked_server(seed_index: Path, real_embedder) -> Iterator[RunningServer]:
    settings = ServiceSettings(
        index_dir=seed_index, port=free_port(), api_key="s3cret", mcp_require_api_key=True
    )
    yield from serve(settings, real_embedder)


async def test_mcp_endpoint_requires_the_api_key_when_configured(
    locked_server: RunningServer,
) -> None:
    url = f"{locked_server.base_url}/mcp"
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        refused = httpx.post(url, json={}, headers=headers, timeout=30)
        assert refused.status_code == 401
        assert "API key" in refused.json()["detail"]
    async with (
        httpx2.AsyncClient(headers={"Authorization": "Bearer s3cret"}) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        answer = await call(client, "ask", {"question": PHASES})
    assert answer["answer"]["citation"]["doc_id"] == SEED_ID
