"""Searcher: from a question to ranked passages of one index generation.

Hybrid retrieval. Candidates are the passages dense search (FAISS) or BM25 ranks high; each
is scored by four signals, fused by a weighted sum:

    dense passage    cosine of question and passage vectors
    dense sentence   best cosine of the question and one of the passage's sentences
    lexical passage  BM25 of the passage (title included), divided by the query's best BM25
    coverage         idf-weighted share of the question's terms the passage or title contains

The sentence-level signal matters because a question is usually answered by one sentence, whose
match a whole passage dilutes. BM25 is divided by the query's best score so that it lives on
the same 0..1 scale as cosines whatever the query's length. The weights were fitted on half of
the SQuAD sample's questions and checked on the other half (``python -m benchmarks.quality_fit``,
README "Quality"); weighted fusion beat reciprocal-rank fusion there, and a fifth signal
(best BM25 of a single sentence) got weight 0 and was dropped.

Results are de-duplicated: a passage whose best sentence overlaps the one shown by a
better-ranked passage of its document (overlapping chunks), or whose vector is nearly identical to a
better-ranked one (the same wire story in two outlets), is dropped.
"""

import asyncio
from concurrent.futures import Future
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Literal

import numpy as np

from indexer import Embedder, IndexSnapshot, PassageRef
from indexer.lexical import LexicalMatches, query_terms
from service.answer import SentenceScorer, TermWeights
from service.encoding import QueryEncoder

RetrievalMode = Literal["hybrid", "dense", "lexical"]

# How many candidates each retriever proposes per requested result (at least MIN_CANDIDATES).
CANDIDATES_PER_RESULT = 4
MIN_CANDIDATES = 50
# Passages whose vectors are this similar carry the same text (a story syndicated twice).
DUPLICATE_COSINE = 0.97


@dataclass(frozen=True, slots=True)
class FusionWeights:
    """Weights of the four signals in a passage's fused score (see the module docstring)."""

    dense_passage: float
    dense_sentence: float
    lexical_passage: float
    coverage: float

    def only(self, mode: RetrievalMode) -> "FusionWeights":
        """These weights restricted to one family of signals, for comparisons."""
        dense = mode != "lexical"
        lexical = mode != "dense"
        return FusionWeights(
            self.dense_passage * dense,
            self.dense_sentence * dense,
            self.lexical_passage * lexical,
            self.coverage * lexical,
        )


# Fitted on half of the SQuAD sample's questions, checked on the other half (README "Quality").
DEFAULT_WEIGHTS = FusionWeights(
    dense_passage=0.2,
    dense_sentence=0.4,
    lexical_passage=0.2,
    coverage=0.2,
)


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved passage, its score, and its best-answering sentence (document offsets)."""

    passage: PassageRef
    score: float
    highlight: tuple[int, int]
    highlight_score: float
    confidence: float
    """How surely the highlight answers the question, on an absolute scale: what ``/ask``
    compares with its abstention threshold (``answer.confidence``)."""


@dataclass(slots=True)
class Signals:
    """Every score of one query over the candidate passages, row i = ``passage_ids[i]``."""

    query_vector: np.ndarray
    terms: list[str]
    term_weights: TermWeights
    passage_ids: np.ndarray
    passage_vectors: np.ndarray
    """The candidates' stored vectors, row i = ``passage_ids[i]``."""
    dense_passage: np.ndarray
    dense_sentence: np.ndarray
    lexical_passage: np.ndarray
    coverage: np.ndarray
    sentence_ids: np.ndarray
    """The candidates' sentences, sorted and distinct."""
    sentence_dense: np.ndarray
    """Cosine of the question with each of ``sentence_ids``."""

    def sentence_cosines(self, first: int, last: int) -> np.ndarray:
        """Cosines of the sentences ``first..last`` of one candidate (all in ``sentence_ids``,
        consecutive there since a passage's sentences are)."""
        start = int(np.searchsorted(self.sentence_ids, first))
        return self.sentence_dense[start : start + last - first + 1]

    def fused(self, weights: FusionWeights) -> np.ndarray:
        return (
            weights.dense_passage * self.dense_passage
            + weights.dense_sentence * self.dense_sentence
            + weights.lexical_passage * self.lexical_passage
            + weights.coverage * self.coverage
        )


class Searcher:
    """Answers queries over one immutable generation; cheap to build, safe to share."""

    def __init__(
        self,
        snapshot: IndexSnapshot,
        embedder: Embedder,
        mode: RetrievalMode = "hybrid",
        weights: FusionWeights = DEFAULT_WEIGHTS,
    ) -> None:
        self.snapshot = snapshot
        self.embedder = embedder
        self.mode = mode
        self.weights = weights.only(mode)
        self.scorer = SentenceScorer(snapshot)

    def search(self, query: str, k: int) -> list[Hit]:
        signals = self.signals(query, k)
        return [] if signals is None else self.rank(signals, k)

    async def search_async(self, query: str, k: int) -> list[Hit]:
        """``search`` run on an event loop, which it never blocks on the model (see
        ``signals_async``)."""
        in_flight = (
            self.embedder.searching()
            if isinstance(self.embedder, QueryEncoder)
            else nullcontext(False)
        )
        with in_flight as alone:
            signals = await self.signals_async(query, k, alone)
            return [] if signals is None else self.rank(signals, k)

    def rank(self, signals: Signals, k: int) -> list[Hit]:
        """The ``k`` best distinct passages by fused score, each with its best sentence."""
        scores = signals.fused(self.weights)
        order = np.argsort(-scores, kind="stable")
        hits: list[Hit] = []
        # The kept passages' vectors, to drop copies of them (checked before scoring sentences:
        # a syndicated story can fill the candidates with copies).
        kept = np.zeros((k, self.snapshot.passage_vectors.shape[1]), dtype=np.float32)
        for row in order:
            vector = signals.passage_vectors[row]
            if hits and float((kept[: len(hits)] @ vector).max()) >= DUPLICATE_COSINE:
                continue
            passage = self.snapshot.passage(int(signals.passage_ids[row]))
            sentence = self.scorer.best(passage, signals, float(scores[row]))
            if _overlaps_shown(passage, sentence.span, hits):
                continue
            kept[len(hits)] = vector
            hits.append(
                Hit(
                    passage=passage,
                    score=float(scores[row]),
                    highlight=sentence.span,
                    highlight_score=sentence.score,
                    confidence=sentence.confidence,
                )
            )
            if len(hits) == k:
                break
        return hits

    def signals(self, query: str, k: int) -> Signals | None:
        """All scores of ``query`` over its candidate passages; None when there is none."""
        if not len(self.snapshot.passages):
            return None
        # The lexical half needs no vector: it runs while an encoder thread runs the model.
        vector = self._query_vector(query)
        lexical = self._lexical_half(query, k)
        return self._with_vector(lexical, vector.result())

    async def signals_async(self, query: str, k: int, alone: bool = False) -> Signals | None:
        """``signals`` for a caller on an event loop: the loop does the lexical half, then
        serves other requests while an encoder thread runs the model, then does the rest.

        A search's own work is ~1 ms of Python and numpy, which the GIL serializes whichever
        thread runs it; handing it to a thread pool cost two thread wake-ups per request and
        left dozens of pool threads contending for the GIL (measured with 8 clients: 1.27x the
        requests/s on the loop).
        """
        if not len(self.snapshot.passages):
            return None
        vector = asyncio.wrap_future(self._query_vector(query, alone))
        lexical = self._lexical_half(query, k)
        return self._with_vector(lexical, await vector)

    def _query_vector(self, query: str, alone: bool = False) -> "Future[np.ndarray]":
        """The query's vector: computed meanwhile by an encoder thread when the embedder is a
        ``QueryEncoder`` (the service's; ``alone``: no other search in flight); by a bare
        embedder (tests, tools) now."""
        if isinstance(self.embedder, QueryEncoder):
            return self.embedder.encode_query_soon(query, alone)
        done: Future[np.ndarray] = Future()
        done.set_result(self.embedder.encode_query(query))
        return done

    def _lexical_half(self, query: str, k: int) -> "_LexicalHalf":
        terms = query_terms(query)
        wanted = min(len(self.snapshot.passages), max(MIN_CANDIDATES, CANDIDATES_PER_RESULT * k))
        matches = self.snapshot.lexical.match(terms)
        return _LexicalHalf(terms, wanted, matches, matches.best(wanted))

    def _with_vector(self, lexical: "_LexicalHalf", query_vector: np.ndarray) -> Signals | None:
        snapshot = self.snapshot
        found = [np.zeros(0, dtype=np.int64)]
        if self.mode != "lexical":
            found.append(snapshot.nearest_passages(query_vector, lexical.wanted))
        if self.mode != "dense" or not len(found[-1]):
            found.append(lexical.candidates)
        passage_ids = _distinct(np.concatenate(found).astype(np.int64, copy=False))
        if not len(passage_ids):  # lexical mode, and no passage shares a word with the query
            return None

        rows = snapshot.passages[passage_ids]
        firsts = rows["first"].astype(np.int64)
        counts = rows["last"].astype(np.int64) - firsts + 1
        # Where each candidate's sentences start in the concatenation of all of them.
        offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
        # Only the candidates' sentences are read from the memory-mapped vectors, each once
        # (overlapping passages share one): nothing here grows with the corpus.
        sentence_ids = np.arange(int(counts.sum())) + np.repeat(firsts - offsets, counts)
        distinct = _distinct(sentence_ids)
        sentence_dense = snapshot.sentence_vectors[distinct] @ query_vector
        per_candidate = sentence_dense[np.searchsorted(distinct, sentence_ids)]
        passage_vectors = snapshot.passage_vectors[passage_ids]
        matches = lexical.matches
        bm25, coverage = matches.at(passage_ids)
        return Signals(
            query_vector=query_vector,
            terms=lexical.terms,
            term_weights=TermWeights(lexical.terms, matches.idf, matches.term_ids),
            passage_ids=passage_ids,
            passage_vectors=passage_vectors,
            dense_passage=passage_vectors @ query_vector,
            dense_sentence=np.maximum.reduceat(per_candidate, offsets),
            lexical_passage=bm25 / max(float(matches.scores.max(initial=0.0)), 1e-9),
            coverage=coverage,
            sentence_ids=distinct,
            sentence_dense=sentence_dense,
        )


@dataclass(frozen=True, slots=True)
class _LexicalHalf:
    """What a search computes before it needs the query's vector."""

    terms: list[str]
    wanted: int
    """Candidates each retriever proposes."""
    matches: LexicalMatches
    candidates: np.ndarray
    """The ``wanted`` passages BM25 scores best."""


def _distinct(ids: np.ndarray) -> np.ndarray:
    """``np.unique(ids)`` for the few hundred ids of one search, in a fifth of its time (~8
    against ~36 us at 500 ids: ``np.unique``'s general-purpose checks dominate at this size)."""
    ordered = np.sort(ids)
    first = np.empty(len(ordered), dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]


def _overlaps_shown(passage: PassageRef, span: tuple[int, int], hits: list[Hit]) -> bool:
    """Whether ``span`` overlaps the highlight of a hit of the same document (overlapping
    passages of one article would otherwise show the same sentence twice)."""
    doc_id = passage.document.doc_id
    return any(
        hit.passage.document.doc_id == doc_id
        and hit.highlight[0] < span[1]
        and span[0] < hit.highlight[1]
        for hit in hits
    )
