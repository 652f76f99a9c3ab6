"""Searcher: from a query to ranked passages of one index generation.

Hybrid retrieval. Candidates are the passages the retrievers propose (``retrieval.py``: FAISS
and BM25 by default); each is scored by five signals (``Signals``), fused by a weighted sum.
The sentence-level signal matters because a question is usually answered by one sentence,
whose match a whole passage dilutes. BM25 is divided by the query's best score so that it lives
on the same 0..1 scale as cosines whatever the query's length. The weights were fitted on half
of the SQuAD sample's questions and checked on the other half (``python -m
benchmarks.quality_fit``, docs/quality.md); weighted fusion beat reciprocal-rank fusion there,
and a fifth signal (best BM25 of a single sentence) got weight 0 and was dropped.

Results are de-duplicated: a passage whose best sentence overlaps the one shown by a
better-ranked passage of its document (overlapping chunks), or whose vector is nearly identical
to a better-ranked one (a paragraph quoted in two articles), is dropped; and one story is
shown once: a passage of a document whose story (``indexer/stories.py``: the same wire story
in several outlets, an article re-published under a new headline) another document shows
already is dropped, and the shown one lists its copies (``Searcher.copies``).

A search is one implementation in two steps, ``_begin`` (start encoding the query, run what
needs no vector) and ``_finish`` (the rest, given the vector); ``search`` and ``search_async``
only differ in how they wait for the vector between the two.
"""

import asyncio
from concurrent.futures import Future
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np

from indexer import Document, Embedder, IndexSnapshot, PassageRef
from service.engine.answer import ScoredSentence, SentenceCandidates, SentenceScorer, agreement
from service.engine.encoding import QueryEncoder
from service.engine.metrics import StageClock
from service.engine.query import PROPOSERS, Filters, RetrievalMode, SearchQuery
from service.engine.retrieval import (
    Evidence,
    PreparedQuery,
    Retriever,
    distinct_ids,
    make_retrievers,
)
from service.engine.signals import FusionWeights, Hit, Signals

# How many candidates each retriever proposes per requested result (at least MIN_CANDIDATES).
CANDIDATES_PER_RESULT = 4
MIN_CANDIDATES = 50
# Passages whose vectors are this similar carry the same text (a story syndicated twice).
DUPLICATE_COSINE = 0.97

# Fitted on half of the SQuAD sample's questions, checked on the other half (docs/quality.md).
DEFAULT_WEIGHTS = FusionWeights(
    dense_passage=0.2,
    dense_sentence=0.4,
    lexical_passage=0.2,
    coverage=0.2,
    time=0.2,
)


@dataclass(frozen=True, slots=True)
class _Begun:
    """A search between its two steps: the vector on its way, the early retrievers done."""

    prepared: list[PreparedQuery]
    """The query, then, if it prefers recent articles, the query over those alone."""
    wanted: int
    vector: "Future[np.ndarray]"
    found: list[np.ndarray]


class Searcher:
    """Answers queries over one immutable generation; cheap to build, safe to share."""

    def __init__(
        self,
        snapshot: IndexSnapshot,
        embedder: Embedder,
        mode: RetrievalMode = "hybrid",
        weights: FusionWeights = DEFAULT_WEIGHTS,
        collapse_stories: bool = True,
    ) -> None:
        self.snapshot = snapshot
        self.embedder = embedder
        self.mode = mode
        self.collapse_stories = collapse_stories
        self.weights = weights.only(mode)
        self.retrievers: list[Retriever] = make_retrievers(PROPOSERS[mode], snapshot)
        self.evidence = Evidence(snapshot)
        self.scorer = SentenceScorer(snapshot)

    def search(self, query: SearchQuery) -> list[Hit]:
        clock = StageClock()
        begun = self._begin(query)
        if begun is None:
            return []
        clock.lap("retrieve")
        vector = begun.vector.result()
        clock.lap("encode")
        return self._conclude(begun, vector, query.k, clock)

    async def search_async(self, query: SearchQuery) -> list[Hit]:
        """``search`` on an event loop, which serves other requests while an encoder thread
        runs the model.

        A search's own work is ~1 ms of Python and numpy, which the GIL serializes whichever
        thread runs it; handing it to a thread pool cost two thread wake-ups per request and
        left dozens of pool threads contending for the GIL (measured with 8 clients: 1.27x the
        requests/s on the loop).
        """
        in_flight = (
            self.embedder.searching()
            if isinstance(self.embedder, QueryEncoder)
            else nullcontext(False)
        )
        with in_flight as alone:
            clock = StageClock()
            begun = self._begin(query, alone)
            if begun is None:
                return []
            clock.lap("retrieve")
            vector = await asyncio.wrap_future(begun.vector)
            clock.lap("encode")
            return self._conclude(begun, vector, query.k, clock)

    def _conclude(self, begun: _Begun, vector: np.ndarray, k: int, clock: StageClock) -> list[Hit]:
        """The search after its vector came: the rest of retrieval, then ranking; timed."""
        signals = self._finish(begun, vector)
        clock.lap("retrieve")
        hits = [] if signals is None else self.rank(signals, k)
        clock.lap("rank")
        clock.record()
        return hits

    def signals(self, query: SearchQuery) -> Signals | None:
        """All scores of ``query`` over its candidate passages; None when there is none."""
        begun = self._begin(query)
        return None if begun is None else self._finish(begun, begun.vector.result())

    def rank(self, signals: Signals, k: int) -> list[Hit]:
        """The ``k`` best distinct passages by fused score, each with its best sentence.

        Two passes: the passages are chosen (and copies dropped) with each one's sentences
        scored on their own; then every highlight is chosen again knowing which answers the
        other hits agree on (``answer.agreement``)."""
        scores = signals.fused(self.weights)
        order = np.argsort(-scores, kind="stable")
        chosen: list[tuple[PassageRef, float, SentenceCandidates, ScoredSentence]] = []
        # The kept passages' vectors, to drop copies of them (a syndicated story can fill the
        # candidates with copies).
        kept = np.zeros((k, signals.passage_vectors.shape[1]), dtype=np.float32)
        # Each candidate's document and story, and the document that shows each story shown.
        doc_rows = self.snapshot.passages["doc"][signals.passage_ids]
        stories = self.snapshot.stories[doc_rows]
        shown_by: dict[int, int] = {}

        def copies_shown(row: int) -> bool:
            """Whether the candidate repeats what a chosen hit shows: another document of its
            story, or a passage of nearly the same vector. Checked before its sentences are
            scored, so that a story in many copies costs no scoring of them."""
            doc_row, story = int(doc_rows[row]), int(stories[row])
            if self.collapse_stories and shown_by.get(story, doc_row) != doc_row:
                return True
            vector = signals.passage_vectors[row]
            return bool(chosen) and float((kept[: len(chosen)] @ vector).max()) >= DUPLICATE_COSINE

        position = 0
        while len(chosen) < k and position < len(order):
            # The sentence signals of as many next candidates as hits are missing, at once.
            batch: list[int] = []
            while len(batch) < k - len(chosen) and position < len(order):
                row = int(order[position])
                position += 1
                if not copies_shown(row):
                    batch.append(row)
            if not batch:
                break
            passages = [self.snapshot.passage(int(signals.passage_ids[row])) for row in batch]
            for row, passage, found in zip(
                batch, passages, self.scorer.candidates_of(passages, signals), strict=True
            ):
                if copies_shown(row):  # of a hit chosen earlier in this batch
                    continue
                score = float(scores[row])
                alone = self.scorer.best(found, score, len(chosen))
                if _overlaps_shown(passage, alone.span, [(p, s.span) for p, _, _, s in chosen]):
                    continue
                kept[len(chosen)] = signals.passage_vectors[row]
                shown_by[int(stories[row])] = passage.doc_row
                chosen.append((passage, score, found, alone))
        shares = agreement(
            [found for _, _, found, _ in chosen],
            [passage.document.doc_id for passage, _, _, _ in chosen],
        )
        hits = []
        for rank, ((passage, score, found, alone), share) in enumerate(
            zip(chosen, shares, strict=True)
        ):
            # Scored at this same rank already: only agreement can change the choice.
            sentence = self.scorer.best(found, score, rank, share) if share.any() else alone
            hits.append(
                Hit(
                    passage=passage,
                    score=score,
                    highlight=sentence.span,
                    highlight_score=sentence.score,
                    evidence=sentence.evidence,
                )
            )
        return hits

    def copies(self, hits: list[Hit], filters: Filters) -> list[list[Document]]:
        """For each hit, the other documents of its story that ``filters`` allow (the copies
        that a collapsed search does not show), in index order."""
        members = self.snapshot.story_members
        if not members:
            return [[] for _ in hits]
        allowed = self.evidence.facets.document_mask(filters)
        documents = self.snapshot.documents
        found = []
        for hit in hits:
            row = hit.passage.doc_row
            story = members.get(int(self.snapshot.stories[row]), [])
            found.append(
                [
                    documents[other]
                    for other in story
                    if other != row and (allowed is None or allowed[other])
                ]
            )
        return found

    def _begin(self, query: SearchQuery, alone: bool = False) -> _Begun | None:
        if not len(self.snapshot.passages):
            return None
        # The retrievers that need no vector run while an encoder thread runs the model.
        vector = self._query_vector(query.text, alone)
        prepared = self.evidence.prepare(query)
        if prepared.allowed is not None and not prepared.allowed.any():
            return None  # the filters allow no passage
        recent = self.evidence.recent(prepared)
        queries = [prepared] if recent is None else [prepared, recent]
        wanted = min(
            len(self.snapshot.passages), max(MIN_CANDIDATES, CANDIDATES_PER_RESULT * query.k)
        )
        found = [
            r.retrieve(q, None, wanted)
            for q in queries
            for r in self.retrievers
            if not r.needs_vector
        ]
        return _Begun(queries, wanted, vector, found)

    def _finish(self, begun: _Begun, vector: np.ndarray) -> Signals | None:
        found = [np.zeros(0, dtype=np.int64), *begun.found]
        for query in begun.prepared:
            for retriever in self.retrievers:
                if retriever.needs_vector:
                    found.append(retriever.retrieve(query, vector, begun.wanted))
        passage_ids = distinct_ids(np.concatenate(found).astype(np.int64, copy=False))
        if not len(passage_ids):  # lexical mode, and no passage shares a word with the query
            return None
        return self.evidence.signals(begun.prepared[0], vector, passage_ids)

    def _query_vector(self, text: str, alone: bool) -> "Future[np.ndarray]":
        """The query's vector: computed meanwhile by an encoder thread when the embedder is a
        ``QueryEncoder`` (the service's; ``alone``: no other search in flight); by a bare
        embedder (tests, tools) now."""
        if isinstance(self.embedder, QueryEncoder):
            return self.embedder.encode_query_soon(text, alone)
        done: Future[np.ndarray] = Future()
        done.set_result(self.embedder.encode_query(text))
        return done


def _overlaps_shown(
    passage: PassageRef, span: tuple[int, int], shown: list[tuple[PassageRef, tuple[int, int]]]
) -> bool:
    """Whether ``span`` overlaps the highlight of a kept passage of the same document
    (overlapping passages of one article would otherwise show the same sentence twice)."""
    doc_id = passage.document.doc_id
    return any(
        other.document.doc_id == doc_id and start < span[1] and span[0] < end
        for other, (start, end) in shown
    )
