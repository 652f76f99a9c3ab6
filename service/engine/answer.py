"""The best answering sentence among retrieved passages, or an honest abstention.

A sentence is scored with the question by three signals plus its passage's fused score:

    dense     cosine of question and sentence vectors (stored per generation)
    coverage  the share of the question's key terms (weighted by idf) the sentence or its
              document's title contains: a sentence that names what is asked about
    context   the same share for the sentence together with the one before it, because an
              answer often refers back ("It was founded in 1066") to what the previous
              sentence named

When a neighbouring sentence of the same passage scores within ``PAIR_MARGIN`` of the best,
the evidence spans both and the answer is the two sentences together. The best one becomes
``/search``'s highlight and ``/ask``'s answer. Whether ``/ask`` answers at all depends on
``confidence``, which uses absolute signals only (cosine and coverage, never scores divided
by the query's best), so an off-topic question cannot look confident just because something
in the index is its "best" match. Weights, margin and the default threshold were chosen by
measurement (``python -m benchmarks.quality_fit``, README "Quality").
"""

from dataclasses import dataclass

import numpy as np

from indexer import IndexSnapshot, PassageRef
from service.engine.signals import Hit, Signals


@dataclass(frozen=True, slots=True)
class SentenceWeights:
    """How the sentence signals add up to a sentence's rank among candidate answers."""

    dense: float
    coverage: float
    context: float
    passage: float


SENTENCE_WEIGHTS = SentenceWeights(dense=0.2, coverage=0.3, context=0.1, passage=0.4)
# Two adjacent sentences are answered together when the weaker scores within this margin of
# the stronger: the largest margin that keeps pairs to about one answer in ten on the data.
PAIR_MARGIN = 0.03
# Confidence = CONFIDENCE_DENSE * cosine + (1 - CONFIDENCE_DENSE) * coverage.
CONFIDENCE_DENSE = 0.7


@dataclass(frozen=True, slots=True)
class ScoredSentence:
    """A passage's best answer (one sentence or two adjacent ones): document offsets, rank
    score, and confidence."""

    span: tuple[int, int]
    score: float
    confidence: float


@dataclass(frozen=True, slots=True)
class SentenceCandidates:
    """The sentences of one passage and their signals, row i = ``spans[i]``."""

    spans: list[tuple[int, int]]
    dense: np.ndarray
    coverage: np.ndarray
    context: np.ndarray

    def scores(self, weights: SentenceWeights, passage_score: float) -> np.ndarray:
        return (
            weights.dense * self.dense
            + weights.coverage * self.coverage
            + weights.context * self.context
            + weights.passage * passage_score
        )

    def answer_rows(self, scores: np.ndarray, margin: float) -> tuple[int, int]:
        """First and last row of the answer: the best sentence, joined by the better of its
        neighbours when that one scores within ``margin``."""
        best = int(np.argmax(scores))
        neighbours = [i for i in (best - 1, best + 1) if 0 <= i < len(scores)]
        if neighbours:
            other = max(neighbours, key=lambda i: scores[i])
            if scores[best] - scores[other] <= margin:
                return min(best, other), max(best, other)
        return best, best


class SentenceScorer:
    """Scores the sentences of retrieved passages against one query's signals."""

    def __init__(
        self,
        snapshot: IndexSnapshot,
        weights: SentenceWeights = SENTENCE_WEIGHTS,
        pair_margin: float = PAIR_MARGIN,
        confidence_dense: float = CONFIDENCE_DENSE,
    ) -> None:
        self.snapshot = snapshot
        self.weights = weights
        self.pair_margin = pair_margin
        self.confidence_dense = confidence_dense

    def candidates(self, passage: PassageRef, signals: Signals) -> SentenceCandidates:
        """The signals of each sentence of ``passage`` for the query behind ``signals``."""
        first, last = passage.first_sentence, passage.last_sentence
        rows = self.snapshot.sentences[first : last + 1]
        terms = signals.term_weights
        own = self.snapshot.lexical.sentences_containing(passage.passage_id, terms.ids, len(rows))
        # The context of sentence i is sentence i with sentence i - 1.
        context = own.copy()
        context[:, 1:] |= own[:, :-1]
        return SentenceCandidates(
            spans=list(zip(rows["start"].tolist(), rows["end"].tolist(), strict=True)),
            dense=np.asarray(signals.sentence_cosines(first, last), dtype=np.float64),
            coverage=terms.coverage_by_sentence(own),
            context=terms.coverage_by_sentence(context),
        )

    def best(self, passage: PassageRef, signals: Signals, passage_score: float) -> ScoredSentence:
        """The passage's sentence (or adjacent pair) that best answers the query."""
        found = self.candidates(passage, signals)
        scores = found.scores(self.weights, passage_score)
        first, last = found.answer_rows(scores, self.pair_margin)
        best = int(np.argmax(scores))
        confidence = self.confidence_dense * float(found.dense[best]) + (
            1 - self.confidence_dense
        ) * float(found.coverage[best])
        span = (found.spans[first][0], found.spans[last][1])
        return ScoredSentence(span, float(scores[best]), confidence)


@dataclass(frozen=True, slots=True)
class AnswerSentence:
    hit: Hit
    start: int
    end: int
    score: float

    @property
    def text(self) -> str:
        return self.hit.passage.document.text[self.start : self.end]


def choose_answer(
    hits: list[Hit], min_confidence: float
) -> tuple[AnswerSentence | None, str | None]:
    """The best sentence over all hits, or ``(None, reason)`` when the evidence is too weak."""
    if not hits:
        return None, "no passage in these articles matches this question"
    best = max(hits, key=lambda hit: hit.highlight_score)
    if best.confidence < min_confidence:
        return None, (
            f"no passage in these articles answers this confidently "
            f"(confidence {best.confidence:.2f} < threshold {min_confidence:.2f})"
        )
    start, end = best.highlight
    return AnswerSentence(hit=best, start=start, end=end, score=best.confidence), None
