"""The service's use cases, from validated request models to response models.

HTTP routes, the fast path and the MCP server call these, so every entry point returns the
same results and citations. Each turns its request into a ``SearchQuery`` once
(``request.search_query()``) and hands it to the searcher unchanged. They are coroutines because the
front doors run on an event loop (``Searcher.search_async``); ``run`` drives one from code that
has no loop of its own.
"""

import time
from typing import Any

from indexer import Document
from service.engine.answer import Abstention, choose_answer
from service.engine.metrics import STAGES, timed
from service.engine.parts import answer_parts
from service.engine.query import SearchQuery
from service.engine.search import Searcher
from service.engine.signals import Hit
from service.errors import DocumentNotFound
from service.schemas import (
    Answer,
    AnswerPart,
    AskRequest,
    AskResponse,
    Citation,
    Copy,
    DocumentList,
    DocumentListRequest,
    DocumentResponse,
    DocumentSummary,
    Interpreted,
    SearchRequest,
    SearchResponse,
    SearchResult,
    Span,
)


async def search(searcher: Searcher, request: SearchRequest) -> SearchResponse:
    began = time.perf_counter()
    query = request.search_query()
    hits = await searcher.search_async(query)
    return SearchResponse(
        query=request.query,
        results=_results(searcher, hits, query),
        interpreted=_interpreted(query),
        took_ms=_ms_since(began),
    )


async def ask(searcher: Searcher, request: AskRequest, abstention: Abstention) -> AskResponse:
    began = time.perf_counter()
    query = request.search_query()
    hits = await searcher.search_async(query)
    generation = searcher.snapshot.generation
    with timed(STAGES["answer"]):
        chosen, reason = choose_answer(hits, abstention)
        answer = None
        if chosen is not None:
            parts = answer_parts(request.question, hits, chosen.hit)
            answer = Answer(
                text=chosen.text,
                score=round(chosen.hit.evidence, 4),
                confidence=round(chosen.confidence, 4),
                citation=_citation(chosen.hit, chosen.start, chosen.end, generation),
                parts=[
                    AnswerPart(
                        text=part.text,
                        citation=_citation(part.hit, part.start, part.end, generation),
                    )
                    for part in parts
                ],
            )
    return AskResponse(
        question=request.question,
        answer=answer,
        reason=reason,
        passages=_results(searcher, hits, query),
        interpreted=_interpreted(query),
        took_ms=_ms_since(began),
    )


def document(searcher: Searcher, doc_id: str) -> DocumentResponse:
    doc = searcher.snapshot.document(doc_id)
    if doc is None:
        raise DocumentNotFound(f"no document with id {doc_id!r}")
    return DocumentResponse(
        text=doc.text, content_hash=doc.content_hash, authors=list(doc.authors), **_metadata(doc)
    )


def list_documents(searcher: Searcher, request: DocumentListRequest) -> DocumentList:
    """A page of the documents the filters allow, newest first, without their texts."""
    facets = searcher.evidence.facets
    order = facets.newest_first
    allowed = facets.document_mask(request.filters())
    if allowed is not None:
        order = order[allowed[order]]
    page = order[request.offset : request.offset + request.limit].tolist()
    documents = searcher.snapshot.documents
    end = request.offset + len(page)
    return DocumentList(
        documents=[
            DocumentSummary(
                content_hash=documents[row].content_hash,
                authors=list(documents[row].authors),
                passages=int(facets.passage_counts[row]),
                **_metadata(documents[row]),
            )
            for row in page
        ],
        total=len(order),
        offset=request.offset,
        limit=request.limit,
        next_offset=end if end < len(order) else None,
    )


def _metadata(doc: Document) -> dict[str, Any]:
    """What both a document and its listing entry say of it, besides text and counts."""
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "source": doc.source,
        "path": doc.path,
        "url": doc.url,
        "published": doc.published,
        "indexed_at": doc.indexed_at,
    }


def _citation(hit: Hit, start: int, end: int, generation: str) -> Citation:
    """Where a text is, and enough about its document for a client to tell a stale quote."""
    doc = hit.passage.document
    return Citation(
        start=start,
        end=end,
        chunk_id=hit.passage.passage_id,
        generation=generation,
        content_hash=doc.content_hash,
        **_metadata(doc),
    )


def _results(searcher: Searcher, hits: list[Hit], query: SearchQuery) -> list[SearchResult]:
    generation = searcher.snapshot.generation
    return [
        SearchResult(
            rank=rank,
            score=round(hit.score, 4),
            text=hit.passage.text,
            citation=_citation(hit, hit.passage.start, hit.passage.end, generation),
            highlight=Span(start=hit.highlight[0], end=hit.highlight[1]),
            also_in=[
                Copy(
                    doc_id=doc.doc_id,
                    title=doc.title,
                    source=doc.source,
                    url=doc.url,
                    published=doc.published,
                )
                for doc in copies
            ],
        )
        for rank, (hit, copies) in enumerate(
            zip(hits, searcher.copies(hits, query.filters), strict=True), start=1
        )
    ]


def _interpreted(query: SearchQuery) -> Interpreted | None:
    """What the search read the query's time words as."""
    when = query.time_range
    if when is None:
        return None
    return Interpreted.model_validate(
        {"published_after": when.after, "published_before": when.before, "from": when.phrase}
    )


def _ms_since(began: float) -> float:
    return round((time.perf_counter() - began) * 1000, 2)
