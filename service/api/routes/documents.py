"""``GET /documents/{doc_id}``: the whole article a citation points into."""

from typing import Annotated

from fastapi import APIRouter, Depends

from service.api.deps import live_index
from service.api.routes.search import ERRORS
from service.engine import usecases
from service.engine.live import LiveIndex
from service.schemas import DocumentResponse, ErrorResponse

router = APIRouter(tags=["documents"])


@router.get(
    "/documents/{doc_id:path}",
    response_model=DocumentResponse,
    responses={404: {"model": ErrorResponse, "description": "Unknown document id."}, **ERRORS},
)
def get_document(live: Annotated[LiveIndex, Depends(live_index)], doc_id: str) -> DocumentResponse:
    """A document's full text: a citation's ``[start:end]`` slice of it is the cited text."""
    return usecases.document(live.searcher(), doc_id)
