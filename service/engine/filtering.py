"""Filters act inside retrieval: a passage mask that the retrievers rank within.

Dropping results after a top-k returns nothing when a filter is narrow (the top 50 passages of
a 100,000-passage index rarely hold the 1% a filter keeps). Instead each retriever is given
the mask of the passages the filter allows: BM25 ranks only those, and dense retrieval scores
them exactly when they are few (``EXACT_MAX``) and asks FAISS for as many more neighbours as
the allowed share calls for when they are many (scoring exactly after all should those hold
too few allowed ones).

The per-document facts the filters read (publisher, publication time, id) are gathered once
per generation, when its first filtered query comes.
"""

from datetime import UTC, datetime
from functools import cached_property

import numpy as np

from indexer import IndexSnapshot
from service.engine.query import Filters

EXACT_MAX = 5_000
"""Up to this many allowed passages, dense retrieval scores every one of them: ~0.3 ms per
thousand rows gathered from the memory-mapped vectors (``python -m benchmarks.filters``:
2,236 rows cost 0.1 ms over an unfiltered search, 19,412 cost 5.6 ms), where FAISS asked for
the allowed share's worth more neighbours costs about what an unfiltered search does."""


DAY_SECONDS = 86_400.0


def as_utc(moment: datetime) -> datetime:
    """Aware datetimes as they are; naive ones taken as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _timestamp(published: str | None) -> float:
    """Seconds since the epoch of an ISO 8601 date or datetime; NaN when absent or unreadable."""
    if not published:
        return float("nan")
    try:
        return as_utc(datetime.fromisoformat(published)).timestamp()
    except ValueError:
        return float("nan")


class DocumentFacets:
    """What filters read of one generation's documents, as arrays by document row."""

    def __init__(self, snapshot: IndexSnapshot) -> None:
        self.snapshot = snapshot

    @cached_property
    def _sources(self) -> np.ndarray:
        return np.array([(doc.source or "").casefold() for doc in self.snapshot.documents])

    @cached_property
    def _published(self) -> np.ndarray:
        return np.array([_timestamp(doc.published) for doc in self.snapshot.documents])

    @cached_property
    def _ids(self) -> np.ndarray:
        return np.array([doc.doc_id for doc in self.snapshot.documents], dtype=object)

    def published_between(
        self, after: datetime | None, before: datetime | None, documents: np.ndarray | None = None
    ) -> np.ndarray:
        """Which documents (all, or the rows ``documents``) were published from ``after`` to
        ``before`` (inclusive, either open); a document without a date never is."""
        published = self._published if documents is None else self._published[documents]
        inside = ~np.isnan(published)
        with np.errstate(invalid="ignore"):
            if after is not None:
                inside &= published >= as_utc(after).timestamp()
            if before is not None:
                inside &= published <= as_utc(before).timestamp()
        return inside

    def recency(self, documents: np.ndarray, now: datetime, half_life_days: float) -> np.ndarray:
        """Each of the rows ``documents``' score multiplier for its age at ``now``: halved
        every ``half_life_days`` (an exponential decay, as Elasticsearch's ``exp`` function
        scores: the ratio of two articles' multipliers depends only on how far apart they
        were published, so ranking does not depend on ``now``). Articles dated after ``now``
        count as new; undated ones as one half-life old."""
        seconds = as_utc(now).timestamp() - self._published[documents]
        ages = np.maximum(np.nan_to_num(seconds, nan=half_life_days * DAY_SECONDS), 0.0)
        return np.exp2(-ages / (half_life_days * DAY_SECONDS))

    def passage_mask(self, filters: Filters) -> np.ndarray | None:
        """Which passages ``filters`` allows (a boolean array by passage id); None for no
        filter at all, so that unfiltered queries pay nothing."""
        documents = self.document_mask(filters)
        return None if documents is None else documents[self.snapshot.passages["doc"]]

    @cached_property
    def newest_first(self) -> np.ndarray:
        """Document rows by publication time, newest first, undated ones last, ties by id."""
        published = self._published
        undated = np.isnan(published)
        return np.lexsort((self._ids.astype(str), -np.nan_to_num(published), undated))

    @cached_property
    def passage_counts(self) -> np.ndarray:
        """Passages per document row."""
        return np.bincount(self.snapshot.passages["doc"], minlength=len(self.snapshot.documents))

    def document_mask(self, filters: Filters) -> np.ndarray | None:
        """Which documents ``filters`` allows (a boolean array by document row); None for
        no filter at all."""
        if filters.empty:
            return None
        documents = np.ones(len(self.snapshot.documents), dtype=bool)
        if filters.sources:
            wanted = [source.casefold() for source in filters.sources]
            documents &= np.isin(self._sources, wanted)
        if filters.published_after is not None or filters.published_before is not None:
            documents &= self.published_between(filters.published_after, filters.published_before)
        if filters.doc_id_prefix:
            prefix = filters.doc_id_prefix
            documents &= np.array([doc_id.startswith(prefix) for doc_id in self._ids], dtype=bool)
        return documents
