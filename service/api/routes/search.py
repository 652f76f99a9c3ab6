"""``/search`` and ``/ask``, over GET (parameters) and POST (a JSON body), through the same
request models and use cases.

The routes run on the event loop and await the model, which runs in an encoder thread
(``Searcher.search_async``): the rest of a search is ~1 ms of Python and numpy that the GIL
serializes whichever thread runs it, and a thread-pool hand-off per request cost more than it
saved. They return their response as ready JSON: FastAPI would otherwise validate the model it
was just built from a second time. A well-formed GET may not even reach these routes:
``service/api/fast_path.py`` answers it through the same models and use cases.
"""

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from service.api.deps import from_query_string, openapi_parameters, searcher, settings
from service.engine import usecases
from service.schemas import AskRequest, AskResponse, ErrorResponse, SearchRequest, SearchResponse

router = APIRouter(tags=["search"])

ERRORS: dict[int | str, dict[str, object]] = {
    422: {"model": ErrorResponse, "description": "Bad input: the message says what is wrong."},
    503: {"model": ErrorResponse, "description": "No index is loaded."},
}


@router.get(
    "/search",
    response_model=SearchResponse,
    responses=ERRORS,
    openapi_extra={"parameters": openapi_parameters(SearchRequest)},
)
async def search_get(request: Request) -> Response:
    """Ranked passages for a query, each with a checkable citation and its best sentence."""
    body = from_query_string(SearchRequest, request.query_params.multi_items())
    return _json(await usecases.search(searcher(request), body))


@router.post("/search", response_model=SearchResponse, responses=ERRORS)
async def search_post(request: Request, body: SearchRequest) -> Response:
    """Same as ``GET /search``, with a JSON body."""
    return _json(await usecases.search(searcher(request), body))


@router.get(
    "/ask",
    response_model=AskResponse,
    responses=ERRORS,
    openapi_extra={"parameters": openapi_parameters(AskRequest)},
)
async def ask_get(request: Request) -> Response:
    """The single best answering sentence with its citation, or ``answer: null`` and a reason."""
    body = from_query_string(AskRequest, request.query_params.multi_items())
    return _json(await usecases.ask(searcher(request), body, settings(request).abstention()))


@router.post("/ask", response_model=AskResponse, responses=ERRORS)
async def ask_post(request: Request, body: AskRequest) -> Response:
    """Same as ``GET /ask``, with a JSON body."""
    return _json(await usecases.ask(searcher(request), body, settings(request).abstention()))


def _json(response: BaseModel) -> Response:
    return Response(content=response.model_dump_json(), media_type="application/json")
