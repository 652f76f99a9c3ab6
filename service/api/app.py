"""``create_app(settings, embedder)`` builds the FastAPI app; nothing is loaded at import time."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from indexer import Embedder, IndexStore, make_embedder
from indexer.errors import IndexerError, IndexLocked
from indexer.pushed import PushedArticles
from service.api import web
from service.api.contract import allowed_methods, install_contract
from service.api.fast_path import QueryFastPath
from service.api.limits import RequestLimits
from service.api.routes import admin, documents, metrics, pushing, search, status, tools
from service.api.telemetry import RequestTelemetry, request_id
from service.engine.encoding import QueryEncoder
from service.engine.live import LiveIndex
from service.engine.reindex import Reindexer
from service.errors import (
    BadQuery,
    DocumentConflict,
    DocumentNotFound,
    Forbidden,
    IndexUnavailable,
    Overloaded,
    ReindexFailed,
    ServiceError,
    Unauthorized,
    UnsupportedBody,
    describe_validation_errors,
)
from service.mcp import HttpTransport, build_server
from service.schemas import PushRequest
from service.settings import ServiceSettings

log = logging.getLogger(__name__)

STATUS_OF: dict[type[Exception], int] = {
    BadQuery: 422,
    Unauthorized: 401,
    Forbidden: 403,
    DocumentNotFound: 404,
    DocumentConflict: 409,
    UnsupportedBody: 415,
    IndexUnavailable: 503,
    Overloaded: 503,
    ReindexFailed: 503,
    IndexLocked: 409,
    IndexerError: 503,
}


def create_app(settings: ServiceSettings, embedder: Embedder | None = None) -> FastAPI:
    """Wire settings, embedder and index into an app. Tests pass their own embedder."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        model = embedder
        if model is None:
            model = await run_in_threadpool(make_embedder, settings, serving=True)
        encoder = QueryEncoder(
            model,
            settings.query_cache_size,
            settings.query_batch_wait_ms,
            settings.max_pending_queries,
        )
        # Lazily built parts of the model (ONNX sessions) are made now, not in a first request.
        await run_in_threadpool(model.encode_query, "warm-up")
        live = LiveIndex(IndexStore(settings.index_dir), encoder, settings.retrieval_mode)
        # Reindexing encodes passages with the model itself, off the query encoder's threads.
        reindexer = Reindexer(settings, model, live)
        if settings.watch:
            await run_in_threadpool(reindexer.start_watching)
        await run_in_threadpool(live.refresh)
        live.start_polling(settings.refresh_interval_seconds)
        app.state.live, app.state.reindexer = live, reindexer
        try:
            async with mcp_http.manager.run():
                yield
        finally:
            live.stop_polling()
            reindexer.close()
            encoder.close()

    app = FastAPI(
        title="News QA",
        summary="Semantic search and question answering over news articles, with citations.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by web.py, offline and under the page's policy
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.pushed = PushedArticles(settings.index_dir)
    web.install_web(app)
    for routes in (search, documents, pushing, status, tools, metrics):
        app.include_router(routes.router)
    # MCP over streamable HTTP, answering from the same live index as the routes above.
    mcp_http = HttpTransport(build_server(lambda: app.state.live.searcher(), settings), settings)
    app.router.routes.append(Route("/mcp", mcp_http, methods=["GET", "POST", "DELETE"]))
    app.include_router(admin.router)
    _install_error_handlers(app)
    install_contract(app, bodies=(PushRequest,))
    app.add_middleware(QueryFastPath)
    app.add_middleware(
        RequestLimits,
        max_bytes=settings.max_body_bytes,
        max_header_bytes=settings.max_header_bytes,
        read_timeout=settings.body_read_timeout_seconds,
    )
    app.add_middleware(RequestTelemetry)  # outermost: it sees every request and response
    return app


def _install_error_handlers(app: FastAPI) -> None:
    """The one place where exceptions become HTTP status codes and messages."""

    def error(request: Request, detail: str, status: int, **headers: str) -> JSONResponse:
        body = {"detail": detail, "request_id": request_id(request.scope)}
        return JSONResponse(body, status_code=status, headers=headers or None)

    async def known_error(request: Request, exc: Exception) -> JSONResponse:
        status = next(code for kind, code in STATUS_OF.items() if isinstance(exc, kind))
        return error(request, str(exc), status, **getattr(exc, "headers", {}))

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        # Routing's own errors (404, 405 with its Allow header), worded as Starlette does.
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            methods = allowed_methods(request.app, request.url.path)
            headers["Allow"] = ", ".join(methods) or headers.get("Allow", "")
        return error(request, str(exc.detail), exc.status_code, **headers)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug: the log line with the same request id has the traceback.
        log.error("request %s failed", request_id(request.scope), exc_info=exc)
        return error(request, "internal error: reported in the service's log", 500)

    async def invalid_input(request: Request, exc: Exception) -> JSONResponse:
        # FastAPI prefixes locations with where the value came from ("query", "body");
        # a model validated inside a route names its own fields only.
        located = isinstance(exc, RequestValidationError)
        errors = exc.errors() if isinstance(exc, RequestValidationError | ValidationError) else []
        message = describe_validation_errors(errors, skip_origin=located)
        return error(request, message, 422)

    app.add_exception_handler(ServiceError, known_error)
    app.add_exception_handler(IndexerError, known_error)
    app.add_exception_handler(RequestValidationError, invalid_input)
    app.add_exception_handler(ValidationError, invalid_input)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
