"""Request bodies refused by their size before anything reads or parses them, and bodies
that stall refused in time.

Every query body is small (a search with twenty sources is under 2 KB; pushed articles, a few
per request, fit the default limit too), yet FastAPI reads and parses a body whole before
validating it: a 20 MB body of 200,000 keys held the event loop for 1.6 s and ~200 MB. A
declared ``Content-Length`` over the limit is a 413 at once, before a byte of the body is
read; a body streamed without one is counted as it arrives and refused once it passes the
limit.
"""

import asyncio
from typing import TypedDict

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.telemetry import request_id
from service.settings import ServiceSettings


class ServerLimits(TypedDict):
    """Keyword arguments of ``uvicorn.run`` and ``uvicorn.Config``."""

    limit_concurrency: int
    timeout_graceful_shutdown: int


def server_limits(settings: ServiceSettings) -> ServerLimits:
    """The limits uvicorn itself enforces: open connections, and how long a shutdown waits
    for the requests in flight."""
    return ServerLimits(
        limit_concurrency=settings.max_connections,
        timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
    )


class RequestLimits:
    """ASGI middleware: 431 for HTTP request headers over ``max_header_bytes`` (httptools,
    uvicorn's parser, takes headers of any size: 8 MB ones were served), 413 for a body over
    ``max_bytes``, 408 for a body whose next part does not arrive within ``read_timeout``
    seconds; all before the app does any work."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, max_header_bytes: int, read_timeout: float
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_header_bytes = max_header_bytes
        self.read_timeout = read_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        if sum(len(name) + len(value) for name, value in headers) > self.max_header_bytes:
            detail = f"request headers over {self.max_header_bytes} bytes (NEWSQA_MAX_HEADER_BYTES)"
            await _refuse(scope, receive, send, 431, detail)
            return
        # The server (h11, httptools) has refused a malformed length before this point.
        declared = dict(headers).get(b"content-length", b"0")
        if int(declared) > self.max_bytes:
            await _refuse(scope, receive, send, 413, self._detail())
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            try:
                message = await asyncio.wait_for(receive(), self.read_timeout)
            except TimeoutError:
                raise HTTPException(
                    408, f"request body not received within {self.read_timeout:g} s"
                ) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised inside the app's reading of the body: the error handlers word it.
                    raise HTTPException(413, self._detail())
            return message

        await self.app(scope, counted, send)

    def _detail(self) -> str:
        return (
            f"request body over {self.max_bytes} bytes (NEWSQA_MAX_BODY_BYTES); queries are a "
            "few hundred bytes: push fewer articles per request"
        )


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
    body = {"detail": detail, "request_id": request_id(scope)}
    await JSONResponse(body, status_code=status, headers={"Connection": "close"})(
        scope, receive, send
    )
