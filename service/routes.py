"""HTTP routes: thin translations between HTTP and the Searcher."""

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from service.answer import choose_answer
from service.errors import DocumentNotFound
from service.live import LiveIndex
from service.schemas import (
    DEFAULT_K,
    MAX_K,
    MAX_QUERY_CHARS,
    Answer,
    AskRequest,
    AskResponse,
    Citation,
    DocumentResponse,
    ErrorResponse,
    Health,
    Ready,
    SearchRequest,
    SearchResponse,
    SearchResult,
    Span,
)
from service.search import Hit, Searcher
from service.settings import ServiceSettings

router = APIRouter()

ERRORS: dict[int | str, dict[str, object]] = {
    422: {"model": ErrorResponse, "description": "Bad input: the message says what is wrong."},
    503: {"model": ErrorResponse, "description": "No index is loaded."},
}


def live_index(request: Request) -> LiveIndex:
    live: LiveIndex = request.app.state.live
    return live


def settings(request: Request) -> ServiceSettings:
    current: ServiceSettings = request.app.state.settings
    return current


Live = Annotated[LiveIndex, Depends(live_index)]
Settings = Annotated[ServiceSettings, Depends(settings)]
QueryParam = Annotated[str, Query(description=f"Natural-language text, 1-{MAX_QUERY_CHARS} chars.")]
KParam = Annotated[int, Query(description=f"How many passages (1-{MAX_K}).")]


def citation(hit: Hit, start: int, end: int) -> Citation:
    doc = hit.passage.document
    return Citation(
        doc_id=doc.doc_id,
        title=doc.title,
        source=doc.source,
        path=doc.path,
        start=start,
        end=end,
        chunk_id=hit.passage.passage_id,
    )


def results(hits: list[Hit]) -> list[SearchResult]:
    return [
        SearchResult(
            rank=rank,
            score=round(hit.score, 4),
            text=hit.passage.text,
            citation=citation(hit, hit.passage.start, hit.passage.end),
            highlight=Span(start=hit.highlight[0], end=hit.highlight[1]),
        )
        for rank, hit in enumerate(hits, start=1)
    ]


def run_search(searcher: Searcher, body: SearchRequest) -> SearchResponse:
    began = time.perf_counter()
    hits = searcher.search(body.query, body.k)
    return SearchResponse(query=body.query, results=results(hits), took_ms=_ms_since(began))


def run_ask(searcher: Searcher, body: AskRequest, min_score: float) -> AskResponse:
    began = time.perf_counter()
    hits = searcher.search(body.question, body.k)
    chosen, reason = choose_answer(hits, min_score)
    answer = None
    if chosen is not None:
        answer = Answer(
            text=chosen.text,
            score=round(chosen.score, 4),
            citation=citation(chosen.hit, chosen.start, chosen.end),
        )
    return AskResponse(
        question=body.question,
        answer=answer,
        reason=reason,
        passages=results(hits),
        took_ms=_ms_since(began),
    )


def _ms_since(began: float) -> float:
    return round((time.perf_counter() - began) * 1000, 2)


@router.get("/search", response_model=SearchResponse, responses=ERRORS, tags=["search"])
def search_get(live: Live, q: QueryParam, k: KParam = DEFAULT_K) -> SearchResponse:
    """Ranked passages for a query, each with a checkable citation and its best sentence."""
    return run_search(live.searcher(), SearchRequest(query=q, k=k))


@router.post("/search", response_model=SearchResponse, responses=ERRORS, tags=["search"])
def search_post(live: Live, body: SearchRequest) -> SearchResponse:
    """Same as ``GET /search``, with a JSON body."""
    return run_search(live.searcher(), body)


@router.get("/ask", response_model=AskResponse, responses=ERRORS, tags=["search"])
def ask_get(live: Live, config: Settings, q: QueryParam, k: KParam = DEFAULT_K) -> AskResponse:
    """The single best answering sentence with its citation, or ``answer: null`` and a reason."""
    return run_ask(live.searcher(), AskRequest(question=q, k=k), config.min_answer_score)


@router.post("/ask", response_model=AskResponse, responses=ERRORS, tags=["search"])
def ask_post(live: Live, config: Settings, body: AskRequest) -> AskResponse:
    """Same as ``GET /ask``, with a JSON body."""
    return run_ask(live.searcher(), body, config.min_answer_score)


@router.get(
    "/documents/{doc_id:path}",
    response_model=DocumentResponse,
    responses={404: {"model": ErrorResponse, "description": "Unknown document id."}, **ERRORS},
    tags=["documents"],
)
def get_document(live: Live, doc_id: str) -> DocumentResponse:
    """A document's full text: a citation's ``[start:end]`` slice of it is the cited text."""
    doc = live.searcher().snapshot.document(doc_id)
    if doc is None:
        raise DocumentNotFound(f"no document with id {doc_id!r}")
    return DocumentResponse(
        doc_id=doc.doc_id,
        title=doc.title,
        text=doc.text,
        source=doc.source,
        path=doc.path,
        url=doc.url,
        published=doc.published,
    )


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
