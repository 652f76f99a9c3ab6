"""The shapes that cross the service's edges: one source of truth for HTTP, MCP and the tool
definitions, so they cannot drift apart.
"""

from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from service.engine.filtering import as_utc
from service.engine.query import Filters, SearchQuery
from service.engine.timewords import interpret

MAX_QUERY_CHARS = 1000
MAX_K = 50
DEFAULT_K = 5

QueryText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_QUERY_CHARS),
]
TopK = Annotated[int, Field(ge=1, le=MAX_K, description="How many passages to return (1-50).")]


MAX_SOURCES = 20
MAX_PAGE = 100
YEARS = range(1800, 2201)
"""Dates outside these years are refused: the ranges read from them ("this week" before
0001-01-03, the day after 9999-12-31) would overflow Python's datetimes."""


def _iso_moment(value: str) -> str:
    """An ISO 8601 date (``2023-07-01``) or datetime (``2023-07-01T12:00:00+02:00``)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO 8601 date or datetime: {value!r}") from None
    if moment.year not in YEARS:
        raise ValueError(f"{value!r} is outside the years {YEARS.start}-{YEARS.stop - 1}")
    return value


Moment = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=40), AfterValidator(_iso_moment)
]
SourceName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _bound(value: str | None, end_of_day: bool) -> datetime | None:
    """An inclusive bound in UTC: a bare date as the start of that day, or (``end_of_day``,
    for ``published_before``) its last instant, so ``published_before=2023-07-31`` keeps July
    31st."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    if end_of_day and len(value) <= len("2023-07-31"):
        moment = datetime.combine(moment.date() + timedelta(days=1), time()) - timedelta(
            microseconds=1
        )
    return as_utc(moment)


class _Strict(BaseModel):
    """Request bodies reject unknown fields and silent type coercion ("5" is not a number)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class _DocumentFilters(_Strict):
    """Which articles a request is about (GET: ``source`` may be repeated; POST: a list)."""

    source: list[SourceName] | None = Field(
        None,
        max_length=MAX_SOURCES,
        description="Only articles from these publishers (any of them, case-insensitive).",
    )
    published_after: Moment | None = Field(
        None, description="Only articles published on or after this ISO 8601 date or datetime."
    )
    published_before: Moment | None = Field(
        None,
        description=(
            "Only articles published on or before this ISO 8601 date (the whole day) or "
            "datetime. An article without a publication date never passes a date bound."
        ),
    )
    doc_id_prefix: str | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="Only documents whose id starts with this (a folder or collection).",
    )

    @model_validator(mode="after")
    def _range_is_not_empty(self) -> Self:
        after = _bound(self.published_after, end_of_day=False)
        before = _bound(self.published_before, end_of_day=True)
        if after is not None and before is not None and after > before:
            raise ValueError(
                f"published_after {self.published_after} is later than published_before "
                f"{self.published_before}: no article can match"
            )
        return self

    def filters(self) -> Filters:
        return Filters(
            sources=tuple(self.source or ()),
            published_after=_bound(self.published_after, end_of_day=False),
            published_before=_bound(self.published_before, end_of_day=True),
            doc_id_prefix=self.doc_id_prefix,
        )


RecencyName = Literal["none", "mild", "strong"]
RECENCY_PRESETS: dict[str, float | None] = {"none": None, "mild": 365.0, "strong": 30.0}
"""Half-lives in days of the named recency preferences."""
DEFAULT_RECENCY: RecencyName = "none"
HalfLife = Annotated[float, Field(gt=0, le=36_500, allow_inf_nan=False)]


class _Filtered(_DocumentFilters):
    """The filters every query takes, the moment its time words are read against, and how
    much newer articles are preferred."""

    now: Moment | None = Field(
        None,
        description=(
            "The moment of asking (ISO 8601), which time words in the text ('this week', "
            "'yesterday', 'in July') are read against; default: the current time."
        ),
    )

    recency: RecencyName | HalfLife = Field(
        DEFAULT_RECENCY,
        description=(
            "Prefer newer articles: scores halve every 365 days (mild), 30 days (strong) or "
            "the given number of days of an article's age at 'now'; none: age does not matter."
        ),
    )

    def moment(self) -> datetime:
        """``now`` as an aware datetime (naive = UTC), or the current time."""
        return as_utc(datetime.fromisoformat(self.now)) if self.now else datetime.now(UTC)

    def query_of(self, text: str, k: int) -> SearchQuery:
        """The engine's query object for this request (``service/engine/query.py``)."""
        moment = self.moment()
        days = RECENCY_PRESETS[self.recency] if isinstance(self.recency, str) else self.recency
        return SearchQuery(
            text, k, self.filters(), interpret(text, moment), recency_days=days, now=moment
        )


class SearchRequest(_Filtered):
    query: QueryText = Field(description="What to look for, in natural language.")
    k: TopK = DEFAULT_K

    def search_query(self) -> SearchQuery:
        return self.query_of(self.query, self.k)


class AskRequest(_Filtered):
    question: QueryText = Field(description="A natural-language question about the articles.")
    k: TopK = DEFAULT_K

    def search_query(self) -> SearchQuery:
        return self.query_of(self.question, self.k)


class DocumentListRequest(_DocumentFilters):
    limit: int = Field(20, ge=1, le=MAX_PAGE, description="Documents per page.")
    offset: int = Field(0, ge=0, description="How many documents of the listing to skip.")


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
    url: str | None
    published: str | None = Field(description="The article's publication date (ISO 8601).")
    generation: str = Field(description="The index generation the citation was served from.")
    content_hash: str = Field(
        description=(
            "SHA-256 of what was indexed of the document: equal to GET /documents/{doc_id}'s "
            "while the quote is current."
        ),
    )
    indexed_at: str | None = Field(
        description="When this content of the document was first indexed (ISO 8601, UTC)."
    )


class Copy(BaseModel):
    """Another document that carries the same story (a syndicated or re-published copy)."""

    doc_id: str
    title: str
    source: str | None
    url: str | None
    published: str | None


class SearchResult(BaseModel):
    rank: int
    score: float
    text: str
    citation: Citation
    highlight: Span = Field(
        description="The passage's sentence (or two adjacent ones) that best answers the query."
    )
    also_in: list[Copy] = Field(
        description=(
            "The other documents of this story (the same wire story in other outlets, the "
            "article re-published under another headline) that the filters allow: one story "
            "is shown once. Empty when it has no copy."
        )
    )


class Interpreted(BaseModel):
    """The publication dates the query's time words were read as (preferred, not required)."""

    model_config = ConfigDict(serialize_by_alias=True)

    published_after: datetime
    published_before: datetime
    from_: str = Field(alias="from", description="The words they were read from.")


INTERPRETED = Field(
    None,
    description=(
        "What the time words of the text ('this week', 'yesterday', 'in July') were read as: "
        "articles published then rank higher. null when the text has none."
    ),
)


class SearchResponse(BaseModel):
    query: str
    results: list[SearchResult]
    interpreted: Interpreted | None = INTERPRETED
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
            "news questions (docs/quality.md, reliability table)."
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
    interpreted: Interpreted | None = INTERPRETED
    took_ms: float


class DocumentResponse(BaseModel):
    doc_id: str
    title: str
    text: str
    source: str | None
    path: str | None
    url: str | None
    published: str | None
    authors: list[str]
    indexed_at: str | None = Field(
        description="When this content was first indexed (ISO 8601, UTC); null in older indexes."
    )
    content_hash: str = Field(description="SHA-256 of what was indexed of it.")


class DocumentSummary(BaseModel):
    """A document as ``GET /documents`` lists it: everything but its text."""

    doc_id: str
    title: str
    source: str | None
    path: str | None
    url: str | None
    published: str | None
    authors: list[str]
    indexed_at: str | None
    content_hash: str = Field(description="SHA-256 of what was indexed of it.")
    passages: int


class DocumentList(BaseModel):
    documents: list[DocumentSummary] = Field(
        description="Newest first by published date; undated ones last; ties by doc_id."
    )
    total: int = Field(description="Documents the filters match, on every page.")
    offset: int
    limit: int
    next_offset: int | None = Field(description="The next page's offset; null on the last.")


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
    stale: bool = Field(
        False,
        description=(
            "The last reindex in this process failed: the sources hold changes the live "
            "generation lacks (it still serves; watch mode keeps trying)."
        ),
    )
    indexing_error: str | None = Field(None, description="Why, while stale.")
    failing_since: datetime | None = Field(None, description="The first failure, while stale.")


class ErrorResponse(BaseModel):
    detail: str
    request_id: str | None = Field(
        None, description="This request's id, also in its X-Request-ID header and log line."
    )


MAX_PUSHED = 100
NoControl = StringConstraints(pattern=r"^[^\x00-\x1f\x7f]*$")


class PushedDocument(_Strict):
    """An article pushed over HTTP: stored under the index folder, then indexed."""

    doc_id: Annotated[str, StringConstraints(min_length=1, max_length=500), NoControl] = Field(
        description="Its id: a later push with the same id replaces it."
    )
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] = ""
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = Field(
        description="The article body (boilerplate is stripped as from any source)."
    )
    source: SourceName | None = Field(None, description="The publisher.")
    url: Annotated[str, StringConstraints(max_length=2000)] | None = None
    published: Moment | None = Field(None, description="Publication date, ISO 8601.")
    authors: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=50
    )

    def record(self) -> dict[str, object]:
        """The document as a line of a JSONL corpus (``indexer/documents.py`` reads it)."""
        fields = self.model_dump(exclude={"doc_id"}, exclude_none=True)
        return {"_id": self.doc_id, **fields}


class PushRequest(_Strict):
    documents: list[PushedDocument] = Field(min_length=1, max_length=MAX_PUSHED)

    @model_validator(mode="after")
    def _ids_are_distinct(self) -> Self:
        ids = [doc.doc_id for doc in self.documents]
        if twice := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"documents: ids given more than once: {', '.join(twice)}")
        return self


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


class PushResponse(BaseModel):
    """What ``POST /documents`` stored, and the reindex that made it searchable."""

    doc_ids: list[str] = Field(description="The stored documents, searchable now.")
    reindex: ReindexResponse


class DeleteResponse(BaseModel):
    doc_id: str
    reindex: ReindexResponse
