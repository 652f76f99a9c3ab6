"""Every request counted, timed, logged once and given an id, ahead of everything else.

The outermost ASGI middleware, so it sees every front door alike: the GET fast path, the
FastAPI routes, MCP over HTTP, the web page and the errors of all of them. A request keeps the
id its client sent in ``X-Request-ID`` (when it is a sane token: letters, digits and ``._:-``,
at most 128) or gets a new one; the id goes back in the response's ``X-Request-ID``, into every
error body (``app.py``) and into the one log line per request (logger ``newsqa.access``: method,
route, status, milliseconds, id; never headers or the query string, where keys and questions
live). Metrics are labelled by route template (``/documents/{doc_id}``), never by raw path,
which would let clients mint unbounded label values.
"""

import logging
import re
import time
import uuid

from starlette.routing import Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.fast_path import ROUTES as FAST_PATH_ROUTES
from service.engine.metrics import REQUEST_SECONDS, REQUESTS

log = logging.getLogger("newsqa.access")

HEADER = b"x-request-id"
_SANE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
UNMATCHED = "unmatched"


def request_id(scope: Scope) -> str | None:
    """The id ``RequestTelemetry`` gave this request (None outside it)."""
    return scope.get("state", {}).get("request_id")


class RequestTelemetry:
    """ASGI middleware: request id, metrics and one access-log line per HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        # As it came: routing rewrites the scope's paths on the way in (a Mount's root_path).
        arrived = {k: scope.get(k, "") for k in ("type", "path", "root_path", "method")}
        given = dict(scope["headers"]).get(HEADER, b"")
        rid = given.decode() if _SANE_ID.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        status = 500  # unless a response starts

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (HEADER, rid.encode())],
                }
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - began
            route = _route_of(scope, arrived)
            method = scope["method"]
            REQUESTS.labels(route, method, str(status)).inc()
            REQUEST_SECONDS.labels(route, method).observe(seconds)
            log.info(
                "%s %s %d %.1fms id=%s",
                method,
                route,
                status,
                seconds * 1000,
                rid,
                extra={
                    "request_id": rid,
                    "method": method,
                    "route": route,
                    "status": status,
                    "ms": round(seconds * 1000, 2),
                },
            )


def _route_of(scope: Scope, arrived: Scope) -> str:
    """The template of the route that answered ``scope`` (``arrived``: its paths as they came
    in), or ``UNMATCHED``."""
    route = scope.get("route")  # FastAPI's routing leaves the route it chose here
    if route is not None:
        return str(route.path_format)
    if arrived["path"] in FAST_PATH_ROUTES:
        return str(arrived["path"])
    for candidate in scope["app"].router.routes:  # Starlette's own: /mcp, /static, /docs
        if isinstance(candidate, Route | Mount) and candidate.matches(arrived)[0] is not Match.NONE:
            return candidate.path_format
    return UNMATCHED
