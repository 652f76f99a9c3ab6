"""``create_app(settings, embedder)`` builds the FastAPI app; nothing is loaded at import time."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from indexer import Embedder, IndexStore, make_embedder
from indexer.errors import IndexerError, IndexLocked
from service.api import web
from service.api.fast_path import QueryFastPath
from service.api.routes import admin, documents, search, status, tools
from service.engine.encoding import QueryEncoder
from service.engine.live import LiveIndex
from service.engine.reindex import Reindexer
from service.errors import (
    BadQuery,
    DocumentNotFound,
    Forbidden,
    IndexUnavailable,
    ReindexFailed,
    ServiceError,
    Unauthorized,
    describe_validation_errors,
)
from service.mcp import HttpTransport, build_server
from service.settings import ServiceSettings

STATUS_OF: dict[type[Exception], int] = {
    BadQuery: 422,
    Unauthorized: 401,
    Forbidden: 403,
    DocumentNotFound: 404,
    IndexUnavailable: 503,
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
        encoder = QueryEncoder(model, settings.query_cache_size, settings.query_batch_wait_ms)
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
    )
    app.state.settings = settings
    web.install_web(app)
    for routes in (search, documents, status, tools):
        app.include_router(routes.router)
    # MCP over streamable HTTP, answering from the same live index as the routes above.
    mcp_http = HttpTransport(build_server(lambda: app.state.live.searcher(), settings), settings)
    app.router.routes.append(Route("/mcp", mcp_http, methods=["GET", "POST", "DELETE"]))
    app.include_router(admin.router)
    _install_error_handlers(app)
    app.add_middleware(QueryFastPath)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    """The one place where exceptions become HTTP status codes and messages."""

    async def known_error(request: Request, exc: Exception) -> JSONResponse:
        status = next(code for kind, code in STATUS_OF.items() if isinstance(exc, kind))
        return JSONResponse({"detail": str(exc)}, status_code=status)

    async def invalid_input(request: Request, exc: Exception) -> JSONResponse:
        # FastAPI prefixes locations with where the value came from ("query", "body");
        # a model validated inside a route names its own fields only.
        located = isinstance(exc, RequestValidationError)
        errors = exc.errors() if isinstance(exc, RequestValidationError | ValidationError) else []
        message = describe_validation_errors(errors, skip_origin=located)
        return JSONResponse({"detail": message}, status_code=422)

    app.add_exception_handler(ServiceError, known_error)
    app.add_exception_handler(IndexerError, known_error)
    app.add_exception_handler(RequestValidationError, invalid_input)
    app.add_exception_handler(ValidationError, invalid_input)
