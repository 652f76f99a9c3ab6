"""``GET /metrics``: Prometheus's text format (``service/engine/metrics.py`` says what is in it)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from service.api.deps import settings
from service.auth import check_bearer
from service.engine.metrics import exposition
from service.schemas import ErrorResponse
from service.settings import ServiceSettings

router = APIRouter(tags=["status"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format."},
        401: {"model": ErrorResponse, "description": "Missing or wrong API key (when required)."},
        403: {"model": ErrorResponse, "description": "A key is required but none configured."},
    },
)
async def metrics(
    request: Request,
    config: Annotated[ServiceSettings, Depends(settings)],
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """Request counts and latencies by route, search stage timings, the encoder's queue and
    batches, reindex runs, and the live generation's id, size and age."""
    if config.metrics_require_api_key:
        check_bearer(config, authorization)
    live = request.app.state.live
    # Reading every worker's files (--workers N) is file I/O: off the event loop.
    body = await run_in_threadpool(exposition, live.snapshot)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
