"""Admin routes: state-changing, so they need ``Authorization: Bearer <NEWSQA_API_KEY>``."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request

from service.api.deps import settings
from service.auth import check_bearer
from service.engine.reindex import Reindexer, reindex_response
from service.schemas import ErrorResponse, ReindexResponse
from service.settings import ServiceSettings

router = APIRouter(prefix="/admin", tags=["admin"])

KEY_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse, "description": "Missing or wrong API key."},
    403: {"model": ErrorResponse, "description": "No API key configured: disabled."},
}
"""What every route behind the API key may answer (``auth.check_bearer``)."""


@router.post(
    "/reindex",
    response_model=ReindexResponse,
    responses={
        **KEY_ERRORS,
        409: {"model": ErrorResponse, "description": "Another indexer kept the index locked."},
    },
)
def reindex(
    request: Request,
    config: Annotated[ServiceSettings, Depends(settings)],
    authorization: Annotated[str | None, Header()] = None,
    full: Annotated[bool, Query(description="Re-embed every document.")] = False,
) -> ReindexResponse:
    """Reindex the configured sources now and swap the result in; returns the counts.

    Concurrent calls run one after another, never at once.
    """
    check_bearer(config, authorization)
    reindexer: Reindexer = request.app.state.reindexer
    return reindex_response(reindexer.run(full=full))
