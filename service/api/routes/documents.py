"""``GET /documents``: the indexed documents, a page at a time, filterable; ``GET
/documents/{doc_id}``: the whole article a citation points into."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from service.api.deps import from_query_string, live_index, openapi_parameters
from service.api.routes.search import ERRORS
from service.engine import usecases
from service.engine.live import LiveIndex
from service.schemas import DocumentList, DocumentListRequest, DocumentResponse, ErrorResponse

router = APIRouter(tags=["documents"])


@router.get(
    "/documents",
    response_model=DocumentList,
    responses=ERRORS,
    openapi_extra={"parameters": openapi_parameters(DocumentListRequest)},
)
def list_documents(request: Request) -> DocumentList:
    """The documents the filters allow (publisher, publication dates, id prefix), newest
    first, with their metadata, content hash and when they were indexed."""
    page = from_query_string(DocumentListRequest, request.query_params.multi_items())
    return usecases.list_documents(live_index(request).searcher(), page)


@router.get(
    "/documents/{doc_id:path}",
    response_model=DocumentResponse,
    responses={404: {"model": ErrorResponse, "description": "Unknown document id."}, **ERRORS},
)
def get_document(live: Annotated[LiveIndex, Depends(live_index)], doc_id: str) -> DocumentResponse:
    """A document's full text: a citation's ``[start:end]`` slice of it is the cited text."""
    return usecases.document(live.searcher(), doc_id)
