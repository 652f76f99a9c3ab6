"""The MCP server: the tools of ``service/tools.py`` over the Model Context Protocol.

Two transports share one server definition:

- stdio, ``python -m service.mcp [--index-dir DIR]`` (console script ``newsqa-mcp``): what a
  desktop chat host launches; the process loads the model and the index itself.
- streamable HTTP at ``/mcp`` inside the FastAPI app (``create_app`` mounts it): same process,
  same model, same live index generation as the HTTP API.

Built on the SDK's low-level ``Server`` rather than ``MCPServer``: the tool schemas come from
our pydantic request and response models, and arguments are validated by those same models,
so a bad argument reads exactly as it does over HTTP.
"""

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError
from starlette.types import Receive, Scope, Send

from indexer import IndexStore, make_embedder
from indexer.errors import IndexerError
from indexer.settings import load_settings
from service.auth import check_bearer
from service.engine.live import LiveIndex
from service.engine.search import Searcher
from service.errors import ServiceError, describe_validation_errors
from service.settings import ServiceSettings
from service.tools import TOOLS, ToolSpec

log = logging.getLogger(__name__)

INSTRUCTIONS = (
    "Search and question answering over a fixed collection of news articles. Use ask for "
    "questions, search to explore, get_document to read or verify a cited article. Quote "
    "passages verbatim and cite them as Title, Source (doc_id, chars start-end)."
)

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def build_server(searcher: Callable[[], Searcher], settings: ServiceSettings) -> Server[Any]:
    """An MCP server answering from whatever ``searcher()`` returns at each call, so a
    hot-swapped index generation is picked up by the next tool call."""

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[_describe(spec) for spec in TOOLS.values()])

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        spec = TOOLS.get(params.name)
        if spec is None:
            # Not a tool failure the model could fix by changing arguments: a protocol error.
            raise MCPError(types.INVALID_PARAMS, f"unknown tool {params.name!r}; see tools/list")
        return await _call(spec, params.arguments or {})

    async def _call(spec: ToolSpec, arguments: dict[str, Any]) -> types.CallToolResult:
        try:
            request = spec.request.model_validate(arguments)
            # Finding the searcher may open a new generation (stdio): off the event loop.
            current = await anyio.to_thread.run_sync(searcher)
            response = await spec.run(current, request, settings)
        except ValidationError as exc:
            return tool_error(describe_validation_errors(exc.errors()))
        except (ServiceError, IndexerError) as exc:
            return tool_error(str(exc))
        return types.CallToolResult(
            content=[types.TextContent(text=spec.render(response))],
            structured_content=response.model_dump(mode="json"),
        )

    return Server(
        "newsqa",
        version="0.1.0",
        title="News QA",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def following(live: LiveIndex) -> Callable[[], Searcher]:
    """The searcher of the newest generation at each call. A desktop host keeps a stdio server
    running for days and nothing else would tell it about a re-index; checking costs one read
    of the ``CURRENT`` pointer, and a request in flight keeps the searcher it started with."""

    def current() -> Searcher:
        live.refresh()
        return live.searcher()

    return current


def tool_error(message: str) -> types.CallToolResult:
    """The one place our exceptions become MCP tool errors: ``isError`` with the message, so
    the model reads what was wrong and can correct its call."""
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


def _describe(spec: ToolSpec) -> types.Tool:
    return types.Tool(
        name=spec.name,
        description=spec.description,
        input_schema=spec.input_schema(),
        output_schema=spec.output_schema(),
        annotations=types.ToolAnnotations(
            read_only_hint=True, idempotent_hint=True, open_world_hint=False
        ),
    )


class HttpTransport:
    """The streamable-HTTP endpoint as an ASGI app, plus the session manager whose ``run()``
    must be entered by the hosting app's lifespan before the first request.

    Stateless: every tool call stands alone, so no session has to survive between requests
    (and several worker processes could share the load).
    """

    def __init__(self, server: Server[Any], settings: ServiceSettings) -> None:
        self.settings = settings
        security = None
        if settings.host in LOOPBACK:
            # The SDK's own default for a local server: refuse requests whose Host or Origin
            # header is not local, so a web page cannot reach it by DNS rebinding.
            security = TransportSecuritySettings(
                allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
                allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
            )
        self.manager = StreamableHTTPSessionManager(
            app=server, stateless=True, json_response=True, security_settings=security
        )
        self._endpoint = StreamableHTTPASGIApp(self.manager)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.settings.mcp_require_api_key:
            # Raises Unauthorized/Forbidden, which the app's handler answers as 401/403.
            headers = dict(scope.get("headers", []))
            authorization = headers.get(b"authorization", b"").decode("latin-1") or None
            check_bearer(self.settings, authorization)
        await self._endpoint(scope, receive, send)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m service.mcp",
        description=(
            "Serve the search, ask and get_document tools over MCP on stdin/stdout, for a chat "
            "host to launch (over HTTP they are at /mcp of `python -m service`)."
        ),
    )
    parser.add_argument("--index-dir", type=Path, help="index folder (default: index/)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # stdout carries the protocol: logs go to stderr, which hosts show in their MCP log.
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    overrides = {k: v for k, v in vars(args).items() if v is not None}
    try:
        settings = load_settings(ServiceSettings, **overrides)
        embedder = make_embedder(settings, serving=True)
    except IndexerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    live = LiveIndex(IndexStore(settings.index_dir), embedder, settings.retrieval_mode)
    if not live.refresh():
        # Keep serving: each tool call then reports the problem to the model as a tool error.
        log.warning("no index loaded from %s", settings.index_dir)
    server = build_server(following(live), settings)

    async def serve() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(serve)
    return 0


if __name__ == "__main__":
    sys.exit(main())
