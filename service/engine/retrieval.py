"""Where candidates come from: the ``Retriever`` seam, its FAISS and BM25 implementations, and
the scoring of every candidate by every signal.

A retriever proposes the passages it ranks best for a query; which ones propose is chosen by
name (``RETRIEVERS``, ``make_retrievers``), from the retrieval mode in the settings. Whoever
proposed a candidate, ``Evidence`` then scores it by all five signals (``Signals``), reading
only the candidates' rows of the memory-mapped vectors and the query's BM25 postings, so
nothing here grows with the corpus. The searcher fuses those signals and never touches an
index file itself.

Retrievers take the ``SearchQuery`` itself, so that options a query carries (filters) can act
inside retrieval rather than on its results.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Protocol

import numpy as np

from indexer import IndexSnapshot
from indexer.lexical import LexicalMatches, query_terms
from service.engine.cues import QuestionCues
from service.engine.filtering import EXACT_MAX, DocumentFacets
from service.engine.query import SearchQuery
from service.engine.signals import Signals, TermWeights
from service.engine.timewords import TimeRange


@dataclass(frozen=True, slots=True)
class PreparedQuery:
    """What a search computes before it needs the query's vector: its terms and their BM25
    postings (``Evidence.prepare``)."""

    query: SearchQuery
    terms: list[str]
    matches: LexicalMatches
    allowed: np.ndarray | None
    """The passages the query's filters allow (boolean by passage id); None: all of them."""


class Retriever(Protocol):
    """A source of candidate passages."""

    name: str
    needs_vector: bool
    """False: ``retrieve`` is called before the query's vector exists (and gets None), so it
    runs while the model encodes the query."""

    def retrieve(self, query: PreparedQuery, vector: np.ndarray | None, wanted: int) -> np.ndarray:
        """Ids of up to ``wanted`` passages this retriever ranks best for ``query``."""
        ...


class DenseRetriever:
    """Nearest passage vectors in the generation's FAISS index."""

    name = "dense"
    needs_vector = True

    def __init__(self, snapshot: IndexSnapshot) -> None:
        self.snapshot = snapshot

    def retrieve(self, query: PreparedQuery, vector: np.ndarray | None, wanted: int) -> np.ndarray:
        assert vector is not None  # needs_vector
        if query.allowed is None:
            return self.snapshot.nearest_passages(vector, wanted)
        ids = np.flatnonzero(query.allowed)
        if len(ids) > EXACT_MAX:
            # Many allowed: FAISS's nearest, as many more as the allowed share calls for.
            ask = int(np.ceil(wanted * len(query.allowed) / len(ids) * 1.5))
            nearest = self.snapshot.nearest_passages(vector, min(len(query.allowed), ask))
            nearest = nearest[query.allowed[nearest]]
            if len(nearest) >= wanted:
                return nearest[:wanted]
        # Few allowed (or FAISS's neighbourhood held too few): score each one exactly.
        if len(ids) <= wanted:
            return ids
        cosines = self.snapshot.passage_vectors[ids] @ vector
        return ids[np.argpartition(-cosines, wanted - 1)[:wanted]]


class LexicalRetriever:
    """The passages BM25 scores best (their text plus their document's title)."""

    name = "lexical"
    needs_vector = False

    def __init__(self, snapshot: IndexSnapshot) -> None:
        self.snapshot = snapshot

    def retrieve(self, query: PreparedQuery, vector: np.ndarray | None, wanted: int) -> np.ndarray:
        return query.matches.best(wanted, query.allowed)


RETRIEVERS: dict[str, Callable[[IndexSnapshot], Retriever]] = {
    "dense": DenseRetriever,
    "lexical": LexicalRetriever,
}
"""Retriever name -> factory over one generation."""


def make_retrievers(names: Sequence[str], snapshot: IndexSnapshot) -> list[Retriever]:
    """The named retrievers over ``snapshot`` (the one place retrievers are made)."""
    unknown = [name for name in names if name not in RETRIEVERS]
    if unknown:
        raise ValueError(f"unknown retrievers {unknown}; known: {sorted(RETRIEVERS)}")
    return [RETRIEVERS[name](snapshot) for name in names]


RECENT_HALF_LIVES = 2.0
"""How far back ``Evidence.recent`` looks, in half-lives (articles weighted 1/4 or more)."""


class Evidence:
    """Scores candidate passages of one generation by every signal."""

    def __init__(self, snapshot: IndexSnapshot) -> None:
        self.snapshot = snapshot
        self.facets = DocumentFacets(snapshot)

    def prepare(self, query: SearchQuery) -> PreparedQuery:
        terms = query_terms(query.text)
        allowed = self.facets.passage_mask(query.filters)
        return PreparedQuery(query, terms, self.snapshot.lexical.match(terms), allowed)

    def recent(self, prepared: PreparedQuery) -> PreparedQuery | None:
        """``prepared`` narrowed to the articles of the last ``RECENT_HALF_LIVES`` half-lives
        before ``now``, when the query prefers recent ones: the retrievers propose the best of
        those too, or a story that fills the archive would keep this week's articles out of
        the candidates that recency re-ranks. None when that adds nothing."""
        query = prepared.query
        if query.recency_days is None:
            return None
        now = query.asked_at()
        since = now - timedelta(days=query.recency_days * RECENT_HALF_LIVES)
        documents = self.facets.published_between(since, now)
        if not documents.any() or documents.all():
            return None
        allowed = documents[self.snapshot.passages["doc"]]
        if prepared.allowed is not None:
            allowed &= prepared.allowed
        return replace(prepared, allowed=allowed) if allowed.any() else None

    def signals(
        self, query: PreparedQuery, query_vector: np.ndarray, passage_ids: np.ndarray
    ) -> Signals:
        """All five signals of the distinct, sorted ``passage_ids``."""
        snapshot = self.snapshot
        rows = snapshot.passages[passage_ids]
        firsts = rows["first"].astype(np.int64)
        counts = rows["last"].astype(np.int64) - firsts + 1
        # Where each candidate's sentences start in the concatenation of all of them.
        offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
        # Only the candidates' sentences are read from the memory-mapped vectors, each once
        # (overlapping passages share one).
        sentence_ids = np.arange(int(counts.sum())) + np.repeat(firsts - offsets, counts)
        distinct = distinct_ids(sentence_ids)
        sentence_dense = snapshot.sentence_vectors[distinct] @ query_vector
        per_candidate = sentence_dense[np.searchsorted(distinct, sentence_ids)]
        passage_vectors = snapshot.passage_vectors[passage_ids]
        matches = query.matches
        bm25, coverage = matches.at(passage_ids)
        return Signals(
            query_vector=query_vector,
            terms=query.terms,
            term_weights=TermWeights(query.terms, matches.idf, matches.term_ids),
            passage_ids=passage_ids,
            passage_vectors=passage_vectors,
            dense_passage=passage_vectors @ query_vector,
            dense_sentence=np.maximum.reduceat(per_candidate, offsets),
            lexical_passage=bm25 / max(float(matches.scores.max(initial=0.0)), 1e-9),
            coverage=coverage,
            sentence_ids=distinct,
            sentence_dense=sentence_dense,
            cues=QuestionCues.of(query.query.text),
            in_time=self._in_time(query.query.time_range, rows["doc"]),
            recency=self._recency(query.query, rows["doc"]),
        )

    def _recency(self, query: SearchQuery, documents: np.ndarray) -> np.ndarray:
        if query.recency_days is None:
            return np.ones(len(documents))
        return self.facets.recency(documents, query.asked_at(), query.recency_days)

    def _in_time(self, when: TimeRange | None, documents: np.ndarray) -> np.ndarray:
        if when is None:
            return np.zeros(len(documents))
        return self.facets.published_between(when.after, when.before, documents).astype(np.float64)


def distinct_ids(ids: np.ndarray) -> np.ndarray:
    """``np.unique(ids)`` for the few hundred ids of one search, in a fifth of its time (~8
    against ~36 us at 500 ids: ``np.unique``'s general-purpose checks dominate at this size)."""
    ordered = np.sort(ids)
    first = np.empty(len(ordered), dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]
