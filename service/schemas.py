"""The shapes that cross the service's edges: one source of truth for HTTP, MCP and the tool
definitions, so they cannot drift apart.
"""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.engine.query import SearchQuery

MAX_QUERY_CHARS = 1000
MAX_K = 50
DEFAULT_K = 5

QueryText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_QUERY_CHARS),
]
TopK = Annotated[int, Field(ge=1, le=MAX_K, description="How many passages to return (1-50).")]


class _Strict(BaseModel):
    """Request bodies reject unknown fields and silent type coercion ("5" is not a number)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class SearchRequest(_Strict):
    query: QueryText = Field(description="What to look for, in natural language.")
    k: TopK = DEFAULT_K

    def search_query(self) -> SearchQuery:
        """The engine's query object for this request (``service/engine/query.py``)."""
        return SearchQuery(text=self.query, k=self.k)


class AskRequest(_Strict):
    question: QueryText = Field(description="A natural-language question about the articles.")
    k: TopK = DEFAULT_K

    def search_query(self) -> SearchQuery:
        """The engine's query object for this request (``service/engine/query.py``)."""
        return SearchQuery(text=self.question, k=self.k)


class DocumentRequest(_Strict):
    doc_id: str = Field(
        min_length=1, description="A citation's doc_id, exactly as a search or ask result gave it."
    )


class Span(BaseModel):
    """A character range ``[start, end)`` in a document's text."""

    start: int
    end: int


class Citation(BaseModel):
    """Where a text comes from: ``GET /documents/{doc_id}`` returns text whose
    ``[start:end]`` slice is exactly the cited text."""

    doc_id: str
    title: str
    source: str | None
    path: str | None
    start: int
    end: int
    chunk_id: int


class SearchResult(BaseModel):
    rank: int
    score: float
    text: str
    citation: Citation
    highlight: Span = Field(
        description="The passage's sentence (or two adjacent ones) that best answers the query."
    )


class SearchResponse(BaseModel):
    query: str
    results: list[SearchResult]
    took_ms: float


class AnswerPart(BaseModel):
    """One part of an answer that lists several things, with its own citation."""

    text: str
    citation: Citation


class Answer(BaseModel):
    text: str = Field(description="The one sentence (or two adjacent ones) that best answers.")
    score: float = Field(
        description=(
            "How plainly the sentence is about what was asked (0.7 x cosine + 0.3 x term "
            "coverage, absolute): below the service's min_answer_score it abstains."
        )
    )
    confidence: float = Field(
        ge=0.0,
        le=1.0,
        description=(
            "The estimated probability that the sentence holds the answer, calibrated on real "
            "news questions (README, reliability table)."
        ),
    )
    citation: Citation
    parts: list[AnswerPart] = Field(
        description=(
            "Every part of the answer, each cited: the answer sentence first, then, when the "
            "question asks for several things (phases, steps, ...), the others in document "
            "order. One part when the answer is one sentence."
        )
    )


class AskResponse(BaseModel):
    question: str
    answer: Answer | None
    reason: str | None = Field(None, description="Why there is no answer, when there is none.")
    passages: list[SearchResult]
    took_ms: float


class DocumentResponse(BaseModel):
    doc_id: str
    title: str
    text: str
    source: str | None
    path: str | None
    url: str | None
    published: str | None


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    status: str
    generation: str
    built_at: datetime
    model: str
    documents: int
    passages: int
    sentences: int


class ErrorResponse(BaseModel):
    detail: str


class ReindexResponse(BaseModel):
    """What ``POST /admin/reindex`` did: document counts by kind of change, and the result."""

    generation: str = Field(description="The live generation after the reindex.")
    built_at: datetime
    written: bool = Field(description="False when nothing changed and no generation was written.")
    full: bool = Field(description="Every document was embedded (first build, full, new recipe).")
    added: int
    changed: int
    deleted: int
    unchanged: int
    documents: int
    passages: int
    seconds: float
