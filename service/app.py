"""``create_app(settings, embedder)`` builds the FastAPI app; nothing is loaded at import time."""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from indexer import Embedder, IndexStore, make_embedder
from indexer.errors import IndexerError
from indexer.vectors import set_faiss_threads
from service.encoding import QueryEncoder
from service.errors import (
    BadQuery,
    DocumentNotFound,
    Forbidden,
    IndexUnavailable,
    ServiceError,
    Unauthorized,
)
from service.live import LiveIndex
from service.routes import router
from service.settings import ServiceSettings

STATUS_OF: dict[type[Exception], int] = {
    BadQuery: 422,
    Unauthorized: 401,
    Forbidden: 403,
    DocumentNotFound: 404,
    IndexUnavailable: 503,
    IndexerError: 503,
}


def create_app(settings: ServiceSettings, embedder: Embedder | None = None) -> FastAPI:
    """Wire settings, embedder and index into an app. Tests pass their own embedder."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        model = embedder
        if model is None:
            model = await run_in_threadpool(make_embedder, settings)
        encoder = QueryEncoder(model, settings.query_cache_size, settings.query_batch_wait_ms)
        # Lazily built parts of the model (ONNX sessions) are made now, not in a first request.
        await run_in_threadpool(model.encode_query, "warm-up")
        set_faiss_threads(1)
        live = LiveIndex(IndexStore(settings.index_dir), encoder)
        await run_in_threadpool(live.refresh)
        app.state.live = live
        yield
        encoder.close()

    app = FastAPI(
        title="News QA",
        summary="Semantic search and question answering over news articles, with citations.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.include_router(router)
    _install_error_handlers(app)
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


def describe_validation_errors(errors: Sequence[Any], skip_origin: bool = False) -> str:
    """One readable line per problem, e.g. ``query: String should have at least 1 character``."""
    lines = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())][1 if skip_origin else 0 :]
        where = ".".join(location) or "request"
        if error.get("type") == "json_invalid":
            lines.append("request body is not valid JSON")
        else:
            lines.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(lines) or "invalid request"
