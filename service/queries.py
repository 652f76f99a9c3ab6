"""The service's use cases, from validated request models to response models.

HTTP routes, the MCP server and any other adapter call these, so every entry point returns the
same results and citations.
"""

import time

from service.answer import choose_answer
from service.errors import DocumentNotFound
from service.schemas import (
    Answer,
    AskRequest,
    AskResponse,
    Citation,
    DocumentResponse,
    SearchRequest,
    SearchResponse,
    SearchResult,
    Span,
)
from service.search import Hit, Searcher


def search(searcher: Searcher, request: SearchRequest) -> SearchResponse:
    began = time.perf_counter()
    return _search_response(request, searcher.search(request.query, request.k), began)


async def search_async(searcher: Searcher, request: SearchRequest) -> SearchResponse:
    """``search`` for an event loop (see ``Searcher.signals_async``)."""
    began = time.perf_counter()
    hits = await searcher.search_async(request.query, request.k)
    return _search_response(request, hits, began)


def ask(searcher: Searcher, request: AskRequest, min_score: float) -> AskResponse:
    began = time.perf_counter()
    hits = searcher.search(request.question, request.k)
    return _ask_response(request, hits, min_score, began)


async def ask_async(searcher: Searcher, request: AskRequest, min_score: float) -> AskResponse:
    """``ask`` for an event loop (see ``Searcher.signals_async``)."""
    began = time.perf_counter()
    hits = await searcher.search_async(request.question, request.k)
    return _ask_response(request, hits, min_score, began)


def _search_response(request: SearchRequest, hits: list[Hit], began: float) -> SearchResponse:
    return SearchResponse(query=request.query, results=_results(hits), took_ms=_ms_since(began))


def _ask_response(
    request: AskRequest, hits: list[Hit], min_score: float, began: float
) -> AskResponse:
    chosen, reason = choose_answer(hits, min_score)
    answer = None
    if chosen is not None:
        answer = Answer(
            text=chosen.text,
            score=round(chosen.score, 4),
            citation=_citation(chosen.hit, chosen.start, chosen.end),
        )
    return AskResponse(
        question=request.question,
        answer=answer,
        reason=reason,
        passages=_results(hits),
        took_ms=_ms_since(began),
    )


def document(searcher: Searcher, doc_id: str) -> DocumentResponse:
    doc = searcher.snapshot.document(doc_id)
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


def _citation(hit: Hit, start: int, end: int) -> Citation:
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


def _results(hits: list[Hit]) -> list[SearchResult]:
    return [
        SearchResult(
            rank=rank,
            score=round(hit.score, 4),
            text=hit.passage.text,
            citation=_citation(hit, hit.passage.start, hit.passage.end),
            highlight=Span(start=hit.highlight[0], end=hit.highlight[1]),
        )
        for rank, hit in enumerate(hits, start=1)
    ]


def _ms_since(began: float) -> float:
    return round((time.perf_counter() - began) * 1000, 2)
