"""The query object: what one request asks, built once by a front door, passed unchanged.

Every front door (GET and POST routes, the fast path, MCP, ``/tools``, the Python client)
validates its input with the request models of ``service/schemas.py`` and turns them into a
``SearchQuery`` with their ``query()`` method; the engine reads nothing else. An option added
here (a filter, a date) reaches every front door through those models and every retriever
through ``Retriever.retrieve``, which takes the query itself.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from service.engine.timewords import TimeRange

RetrievalMode = Literal["hybrid", "dense", "lexical"]

PROPOSERS: dict[RetrievalMode, tuple[str, ...]] = {
    "hybrid": ("dense", "lexical"),
    "dense": ("dense",),
    "lexical": ("lexical",),
}
"""The retrievers (``service/engine/retrieval.py``) that propose candidates in each mode."""


@dataclass(frozen=True, slots=True)
class Filters:
    """Which articles a query may draw on; every part optional, all given parts must hold.

    ``published_after`` / ``published_before`` are inclusive bounds in UTC; an article without
    a publication date never passes a date bound."""

    sources: tuple[str, ...] = ()
    """Publishers, any of them (compared case-insensitively)."""
    published_after: datetime | None = None
    published_before: datetime | None = None
    doc_id_prefix: str | None = None
    """A folder or collection: the document id starts with it."""

    @property
    def empty(self) -> bool:
        return self == NO_FILTERS


NO_FILTERS = Filters()


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A question or search text, how many passages to return, and from which articles."""

    text: str
    k: int
    filters: Filters = NO_FILTERS
    time_range: TimeRange | None = None
    """What the text's time words ("this week") name, read once against the moment of asking
    (``timewords.interpret``): preferred in ranking and reported in the response."""
    recency_days: float | None = None
    """The half-life, in days, of a preference for recent articles (``Evidence.signals``);
    None: age does not matter."""
    now: datetime | None = None
    """The moment of asking, which ages are counted from (default: the current time)."""

    def asked_at(self) -> datetime:
        """``now``, or the current time when the query was built without one."""
        return self.now or datetime.now(UTC)
