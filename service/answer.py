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

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from indexer import IndexSnapshot, PassageRef
from indexer.lexical import tokenize

if TYPE_CHECKING:
    from service.search import Hit, Signals


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
# Passages whose sentences' terms are kept, per generation (~3 kB each: 12 MB when full).
PASSAGE_TERMS_CACHE = 4096
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


class TermWeights:
    """A query's terms with their idf weights, summed once per query."""

    def __init__(self, terms: Sequence[str], idf: np.ndarray) -> None:
        self.terms = list(terms)
        total = float(idf.sum())
        self.total = total if self.terms and total > 0 else 0.0
        self._shares = np.asarray(idf, dtype=np.float64) / (self.total or 1.0)

    def coverage_by_sentence(self, masks: Sequence[int], count: int) -> np.ndarray:
        """Per sentence, the share of the query's idf mass whose terms it contains, given per
        term the bit mask of the sentences that contain it (bit i = sentence i); 0 without
        terms."""
        if not self.total:
            return np.zeros(count)
        # Masks of passages of up to 63 sentences fit numpy's int64; longer ones stay Python ints.
        kind = np.int64 if count < 64 else object
        bits = np.array(masks, dtype=kind)[:, None] >> np.arange(count) & 1
        return self._shares @ bits.astype(np.float64)


@dataclass(frozen=True, slots=True)
class PassageTerms:
    """A passage's sentence spans and which of its sentences contain each term: derived from the
    generation alone, so computed once per passage and shared by every query."""

    spans: tuple[tuple[int, int], ...]
    sentences_with: dict[str, int]
    """Term -> bit mask of the passage's sentences whose text contains it (bit i = sentence i)."""
    title: frozenset[str]


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
        # Tokenizing a passage's sentences is most of the cost of scoring them, and its result
        # depends on the generation only: hot passages are tokenized once.
        self._terms = lru_cache(maxsize=PASSAGE_TERMS_CACHE)(self._passage_terms)
        self._title_terms = lru_cache(maxsize=PASSAGE_TERMS_CACHE)(_title_terms)

    def candidates(self, passage: PassageRef, signals: "Signals") -> SentenceCandidates:
        """The signals of each sentence of ``passage`` for the query behind ``signals``."""
        found = self._terms(passage.passage_id)
        count = len(found.spans)
        everyone = (1 << count) - 1
        own: list[int] = []
        context: list[int] = []
        for term in signals.term_weights.terms:
            if term in found.title:
                own.append(everyone)
                context.append(everyone)
            else:
                mask = found.sentences_with.get(term, 0)
                own.append(mask)
                # The context of sentence i is sentence i with sentence i - 1.
                context.append((mask | mask << 1) & everyone)
        cosines = signals.sentence_cosines(passage.first_sentence, passage.last_sentence)
        return SentenceCandidates(
            spans=list(found.spans),
            dense=np.asarray(cosines, dtype=np.float64),
            coverage=signals.term_weights.coverage_by_sentence(own, count),
            context=signals.term_weights.coverage_by_sentence(context, count),
        )

    def _passage_terms(self, passage_id: int) -> PassageTerms:
        passage = self.snapshot.passage(passage_id)
        rows = self.snapshot.sentences[passage.first_sentence : passage.last_sentence + 1]
        spans = tuple(
            (int(start), int(end)) for start, end in zip(rows["start"], rows["end"], strict=True)
        )
        sentences_with: dict[str, int] = {}
        for i, (start, end) in enumerate(spans):
            for term in set(tokenize(passage.document.text[start:end])):
                sentences_with[term] = sentences_with.get(term, 0) | 1 << i
        return PassageTerms(spans, sentences_with, self._title_terms(passage.document.title))

    def best(self, passage: PassageRef, signals: "Signals", passage_score: float) -> ScoredSentence:
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


def _title_terms(title: str) -> frozenset[str]:
    return frozenset(tokenize(title))


@dataclass(frozen=True, slots=True)
class AnswerSentence:
    hit: "Hit"
    start: int
    end: int
    score: float

    @property
    def text(self) -> str:
        return self.hit.passage.document.text[self.start : self.end]


def choose_answer(
    hits: list["Hit"], min_confidence: float
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
