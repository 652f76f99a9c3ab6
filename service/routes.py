"""HTTP routes: thin translations between HTTP and the Searcher.

The query routes run on the event loop and await the model, which runs in an encoder thread
(``Searcher.signals_async``): the rest of a search is ~1 ms of Python and numpy that the GIL
serializes whichever thread runs it, and a thread-pool hand-off per request cost more than it
saved. They read the live index and settings from the app directly, since even an async
dependency costs FastAPI a tenth of a millisecond to resolve, and return their response as
ready JSON: FastAPI would otherwise validate the model it was just built from a second time.
A well-formed ``GET /search`` or ``GET /ask`` does not even reach these routes: ``fast_path``
answers it through the same use cases, and leaves the rest (and every error) to them.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from service import queries
from service.live import LiveIndex
from service.schemas import (
    DEFAULT_K,
    MAX_K,
    MAX_QUERY_CHARS,
    AskRequest,
    AskResponse,
    DocumentResponse,
    ErrorResponse,
    Health,
    Ready,
    SearchRequest,
    SearchResponse,
)
from service.search import Searcher
from service.settings import ServiceSettings

router = APIRouter()

ERRORS: dict[int | str, dict[str, object]] = {
    422: {"model": ErrorResponse, "description": "Bad input: the message says what is wrong."},
    503: {"model": ErrorResponse, "description": "No index is loaded."},
}


async def live_index(request: Request) -> LiveIndex:
    live: LiveIndex = request.app.state.live
    return live


async def settings(request: Request) -> ServiceSettings:
    current: ServiceSettings = request.app.state.settings
    return current


Live = Annotated[LiveIndex, Depends(live_index)]
Settings = Annotated[ServiceSettings, Depends(settings)]
QueryParam = Annotated[str, Query(description=f"Natural-language text, 1-{MAX_QUERY_CHARS} chars.")]
KParam = Annotated[int, Query(description=f"How many passages (1-{MAX_K}).")]


@router.get("/search", response_model=SearchResponse, responses=ERRORS, tags=["search"])
async def search_get(request: Request, q: QueryParam, k: KParam = DEFAULT_K) -> Response:
    """Ranked passages for a query, each with a checkable citation and its best sentence."""
    return _json(await queries.search_async(_searcher(request), SearchRequest(query=q, k=k)))


@router.post("/search", response_model=SearchResponse, responses=ERRORS, tags=["search"])
async def search_post(request: Request, body: SearchRequest) -> Response:
    """Same as ``GET /search``, with a JSON body."""
    return _json(await queries.search_async(_searcher(request), body))


@router.get("/ask", response_model=AskResponse, responses=ERRORS, tags=["search"])
async def ask_get(request: Request, q: QueryParam, k: KParam = DEFAULT_K) -> Response:
    """The single best answering sentence with its citation, or ``answer: null`` and a reason."""
    body = AskRequest(question=q, k=k)
    return _json(await queries.ask_async(_searcher(request), body, _min_answer_score(request)))


@router.post("/ask", response_model=AskResponse, responses=ERRORS, tags=["search"])
async def ask_post(request: Request, body: AskRequest) -> Response:
    """Same as ``GET /ask``, with a JSON body."""
    return _json(await queries.ask_async(_searcher(request), body, _min_answer_score(request)))


def _searcher(request: Request) -> Searcher:
    live: LiveIndex = request.app.state.live
    return live.searcher()


def _min_answer_score(request: Request) -> float:
    config: ServiceSettings = request.app.state.settings
    return config.min_answer_score


def _json(response: BaseModel) -> Response:
    return Response(content=response.model_dump_json(), media_type="application/json")


@router.get(
    "/documents/{doc_id:path}",
    response_model=DocumentResponse,
    responses={404: {"model": ErrorResponse, "description": "Unknown document id."}, **ERRORS},
    tags=["documents"],
)
def get_document(live: Live, doc_id: str) -> DocumentResponse:
    """A document's full text: a citation's ``[start:end]`` slice of it is the cited text."""
    return queries.document(live.searcher(), doc_id)


@router.get("/health", response_model=Health, tags=["status"])
def health() -> Health:
    """The process is up (says nothing about the index; see ``/ready``)."""
    return Health(status="ok")


@router.get("/ready", response_model=Ready, responses=ERRORS, tags=["status"])
def ready(live: Live) -> Ready:
    """The live index: its generation, build time, model and counts; 503 while there is none."""
    manifest = live.searcher().snapshot.manifest
    return Ready(
        status="ready",
        generation=manifest.generation,
        built_at=manifest.built_at,
        model=manifest.model_name,
        documents=manifest.document_count,
        passages=manifest.passage_count,
        sentences=manifest.sentence_count,
    )
