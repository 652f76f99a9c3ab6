"""``GET /search`` and ``GET /ask`` answered ahead of FastAPI's routing and request handling.

These two routes carry nearly all of a busy service's traffic, and for them FastAPI's routing,
parameter parsing and response wrapping cost more than its features are worth: measured again
after the read path became one query object (``python -m benchmarks.fast_path``: the same
index served with and without this middleware, in alternating rounds, query vectors cached),
answering them here adds 27% requests/s with 8 clients (996 against 784 over ten rounds; 806
against 635 over six) and takes 6-18% off the p50 of a search at one client (1.35 against 1.44
ms; 1.59 against 1.94), where the gap is close to the machine's noise.

Only a well-formed request is answered here, read by the same function into the same request
models as the GET routes (``deps.from_query_string``) and answered by the same use cases; the
FastAPI routes stay the documented API (OpenAPI) and answer everything else. Anything unusual
(a missing or malformed parameter, an unknown one, no index loaded) goes to FastAPI as it came,
so every error is still worded by the one place that turns exceptions into HTTP responses
(``service/api/app.py``).
"""

from urllib.parse import parse_qsl

from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

from indexer.errors import IndexerError
from service.api.deps import from_query_string
from service.engine import usecases
from service.errors import ServiceError
from service.schemas import AskRequest, SearchRequest

ROUTES = frozenset({"/search", "/ask"})
_HEADERS = [(b"content-type", b"application/json")]


class QueryFastPath:
    """ASGI middleware: answers a well-formed ``GET /search`` or ``GET /ask``, passes on the
    rest. Reads the live index and settings from ``app.state``, as the routes do."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = None
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] in ROUTES:
            body = await _answer(scope)
        if body is None:
            await self.app(scope, receive, send)
            return
        length = (b"content-length", str(len(body)).encode())
        await send({"type": "http.response.start", "status": 200, "headers": [*_HEADERS, length]})
        await send({"type": "http.response.body", "body": body})


async def _answer(scope: Scope) -> bytes | None:
    """The JSON body of the answer, or None to leave the request (and its error) to FastAPI."""
    # As Starlette reads a query string, every pair in order.
    parameters = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    state = scope["app"].state
    response: BaseModel
    try:
        searcher = state.live.searcher()
        if scope["path"] == "/search":
            search = from_query_string(SearchRequest, parameters)
            response = await usecases.search(searcher, search)
        else:
            ask = from_query_string(AskRequest, parameters)
            response = await usecases.ask(searcher, ask, state.settings.abstention())
    except (ServiceError, IndexerError):
        return None
    return response.model_dump_json().encode()
