"""The best answering sentence among retrieved passages, or an honest abstention.

A sentence of a hit is scored with the question by a weighted sum of signals
(``SentenceCandidates.features``):

    dense           cosine of question and sentence vectors (stored per generation)
    coverage        the share of the question's key terms (weighted by idf) the sentence or
                    its document's title contains: a sentence that names what is asked about
    context         the same share for the sentence together with the one before it, because
                    an answer often refers back ("It was founded in 1066") to what the
                    previous sentence named
    passage, rank   its passage's fused score and rank among the hits
    kind            it adds a number, date or name of the kind asked for (``cues.py``)
    consensus       the share of the hits' articles that mention one of those
    length          longer sentences (up to ``LENGTH_CAP``) say more
    lede            the first sentence of a long article, where news states the main fact
    question        it is itself a question (an echo of the one asked: a penalty)
    after_question  it follows such an echo (a quiz page's answer line)

When a neighbouring sentence of the same passage scores within ``PAIR_MARGIN`` of the best,
the evidence spans both and the answer is the two sentences together. The best one becomes
``/search``'s highlight and ``/ask``'s answer. Whether ``/ask`` answers at all depends on two
things (``Abstention``): its ``evidence``, which uses absolute signals only (cosine and
coverage, never scores divided by the query's best), so an off-topic question cannot look
answerable just because something in the index is its "best" match; and its calibrated
``confidence`` (``Calibration``). The weights and the calibration were fitted on news and
SQuAD (``python -m benchmarks.answer_fit``), the margin and the evidence threshold by
``benchmarks.quality_fit``.
"""

from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from itertools import pairwise
from typing import cast

import numpy as np

from indexer import IndexSnapshot, PassageRef
from service.engine.cues import AnswerKind, consensus, is_question, mentions
from service.engine.signals import Hit, Signals


@dataclass(frozen=True, slots=True)
class SentenceWeights:
    """How the sentence signals (``SentenceCandidates.features``, in this order) add up to a
    sentence's rank among candidate answers."""

    dense: float
    coverage: float
    context: float
    passage: float
    rank: float
    kind: float
    consensus: float
    length: float
    lede: float
    question: float
    after_question: float

    def vector(self) -> np.ndarray:
        return np.array(astuple(self), dtype=np.float64)


FEATURES = tuple(field.name for field in fields(SentenceWeights))
# Fitted on news-2023 and half of the SQuAD sample, checked on news-2024 and the other half
# (``python -m benchmarks.answer_fit``, docs/quality.md, "Quality on real news").
SENTENCE_WEIGHTS = SentenceWeights(
    dense=0.376,
    coverage=0.364,
    context=0.162,
    passage=0.097,
    rank=0.04,
    kind=0.141,
    consensus=0.158,
    length=0.103,
    lede=0.143,
    question=-0.243,
    after_question=0.027,
)
# Two adjacent sentences are answered together when the weaker scores within this margin of
# the stronger: the largest margin that keeps pairs to about one answer in ten on the data.
PAIR_MARGIN = 0.03
# Evidence = EVIDENCE_DENSE * cosine + (1 - EVIDENCE_DENSE) * coverage.
EVIDENCE_DENSE = 0.7
# Sentences longer than this are no likelier to answer than one of this length.
LENGTH_CAP = 400
# An article this long has a lede; a shorter text (a paragraph, a note) need not.
LEDE_MIN_CHARS = 1500
# Sentences whose mentions (``cues.mentions``) a scorer keeps, ~200 bytes each; it forgets
# them all when full.
MENTIONS_KEPT = 200_000
# The previous sentence is the question echoed (a quiz page) when it covers this much of it.
ECHO_COVERAGE = 0.6


@dataclass(frozen=True, slots=True)
class ScoredSentence:
    """A passage's best answer (one sentence or two adjacent ones): document offsets, rank
    score, and evidence."""

    span: tuple[int, int]
    score: float
    evidence: float
    row: int
    """The best sentence's row among the passage's ``SentenceCandidates``."""


@dataclass(frozen=True, slots=True)
class SentenceCandidates:
    """The sentences of one passage and their signals, row i = ``spans[i]``."""

    spans: list[tuple[int, int]]
    dense: np.ndarray
    coverage: np.ndarray
    context: np.ndarray
    answers: list[frozenset[str]]
    """Per sentence, the numbers, dates or names of the asked kind it adds (``cues``)."""
    kind: np.ndarray
    """1 for a sentence with any of ``answers``, else 0."""
    length: np.ndarray
    lede: np.ndarray
    """1 for the first sentence of a long article (where news puts the main fact), else 0."""
    question: np.ndarray
    """1 for a sentence that is a question, else 0."""
    after_question: np.ndarray
    """1 for a sentence that follows an echo of the question (a quiz page's answer line)."""

    def features(self, passage_score: float, rank: int, agreement: np.ndarray) -> np.ndarray:
        """The (sentences, ``FEATURES``) matrix, given the passage's fused score, its rank
        among the hits (0 first) and each sentence's ``consensus`` over the hits."""
        columns: tuple[np.ndarray | float, ...] = (
            self.dense,
            self.coverage,
            self.context,
            passage_score,
            1.0 / (rank + 1),
            self.kind,
            agreement,
            self.length,
            self.lede,
            self.question,
            self.after_question,
        )
        # Filled column by column: ~3x faster than np.column_stack at a passage's few rows,
        # and this runs twice per hit of every search.
        matrix = np.empty((len(self.spans), len(columns)))
        for column, values in enumerate(columns):
            matrix[:, column] = values
        return matrix

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


def agreement(candidates: Sequence[SentenceCandidates], doc_ids: Sequence[str]) -> list[np.ndarray]:
    """Per passage, each sentence's ``consensus`` over all the passages (one per hit)."""
    answers = [found for passage in candidates for found in passage.answers]
    documents = [
        doc for passage, doc in zip(candidates, doc_ids, strict=True) for _ in passage.answers
    ]
    shares = np.array(consensus(answers, documents), dtype=np.float64)
    bounds = np.cumsum([0, *(len(passage.answers) for passage in candidates)])
    return [shares[a:b] for a, b in pairwise(bounds)]


class SentenceScorer:
    """Scores the sentences of retrieved passages against one query's signals."""

    def __init__(
        self,
        snapshot: IndexSnapshot,
        weights: SentenceWeights = SENTENCE_WEIGHTS,
        pair_margin: float = PAIR_MARGIN,
        evidence_dense: float = EVIDENCE_DENSE,
    ) -> None:
        self.snapshot = snapshot
        self.weights = weights
        self._vector = weights.vector()
        self.pair_margin = pair_margin
        self.evidence_dense = evidence_dense
        self._mentioned: dict[tuple[AnswerKind, int], tuple[str, ...]] = {}

    def candidates_of(
        self, passages: Sequence[PassageRef], signals: Signals
    ) -> list[SentenceCandidates]:
        """The signals of each sentence of each of ``passages`` for the query behind
        ``signals``, computed over all their sentences at once:
        a few numpy operations on one array cost what they would on each passage's handful
        of rows, so a search pays for its sentence signals about once, not once per hit."""
        firsts = np.array([passage.first_sentence for passage in passages], dtype=np.int64)
        counts = np.array([passage.last_sentence for passage in passages]) - firsts + 1
        bounds = np.concatenate(([0], np.cumsum(counts)))
        heads = bounds[:-1]
        # The sentence ids of every passage, one after another.
        ids = np.arange(bounds[-1]) + np.repeat(firsts - heads, counts)
        rows = self.snapshot.sentences[ids]
        starts, ends = rows["start"].astype(np.int64), rows["end"].astype(np.int64)
        terms = signals.term_weights
        lexical = self.snapshot.lexical
        own = np.concatenate(
            [
                lexical.sentences_containing(passage.passage_id, terms.ids, int(count))
                for passage, count in zip(passages, counts.tolist(), strict=True)
            ],
            axis=1,
        )
        # The context of sentence i is sentence i with sentence i - 1 of the same passage.
        context = own.copy()
        context[:, 1:] |= own[:, :-1]
        context[:, heads] = own[:, heads]
        coverage = terms.coverage_by_sentence(own)
        texts = [passage.document.text for passage in passages]
        sentences = [
            text[start:end]
            for text, first, last in zip(texts, heads.tolist(), bounds[1:].tolist(), strict=True)
            for start, end in zip(
                starts[first:last].tolist(), ends[first:last].tolist(), strict=True
            )
        ]
        question = np.array([is_question(s) for s in sentences], dtype=np.float64)
        cues = signals.cues
        answers = [
            cues.answers_in(found) for found in self._mentions(cues.kind, ids.tolist(), sentences)
        ]
        echoed = question * (coverage >= ECHO_COVERAGE)
        after_question = np.concatenate(([0.0], echoed[:-1]))
        after_question[heads] = 0.0
        long_article = np.repeat([len(text) >= LEDE_MIN_CHARS for text in texts], counts)
        columns = {
            "dense": signals.sentence_dense[np.searchsorted(signals.sentence_ids, ids)],
            "coverage": coverage,
            "context": terms.coverage_by_sentence(context),
            "kind": np.array([float(bool(found)) for found in answers]),
            "length": np.minimum(ends - starts, LENGTH_CAP) / LENGTH_CAP,
            "lede": ((starts == 0) & long_article).astype(np.float64),
            "question": question,
            "after_question": after_question,
        }
        spans = list(zip(starts.tolist(), ends.tolist(), strict=True))
        return [
            SentenceCandidates(
                spans=spans[first:last],
                answers=answers[first:last],
                **{name: values[first:last] for name, values in columns.items()},
            )
            for first, last in zip(heads.tolist(), bounds[1:].tolist(), strict=True)
        ]

    def _mentions(
        self, kind: AnswerKind, ids: list[int], sentences: list[str]
    ) -> list[tuple[str, ...]]:
        """``cues.mentions`` of the sentences ``ids`` (whose texts are ``sentences``), kept for
        this generation: finding them is most of the cost of the sentence signals, and a
        story's sentences come back in every search about it."""
        kept = self._mentioned
        found = [kept.get((kind, sentence)) for sentence in ids]
        missing = [row for row, mentioned in enumerate(found) if mentioned is None]
        if missing:
            if len(kept) + len(missing) > MENTIONS_KEPT:
                kept.clear()
            for row, mentioned in zip(
                missing, mentions(kind, [sentences[row] for row in missing]), strict=True
            ):
                found[row] = kept[(kind, ids[row])] = mentioned
        return cast(list[tuple[str, ...]], found)

    def best(
        self,
        found: SentenceCandidates,
        passage_score: float,
        rank: int,
        agreement: np.ndarray | None = None,
    ) -> ScoredSentence:
        """The passage's sentence (or adjacent pair) that best answers the query; without
        ``agreement`` (before the other hits are known) it counts as none."""
        shares = np.zeros(len(found.spans)) if agreement is None else agreement
        scores = found.features(passage_score, rank, shares) @ self._vector
        first, last = found.answer_rows(scores, self.pair_margin)
        best = int(np.argmax(scores))
        evidence = self.evidence_dense * float(found.dense[best]) + (
            1 - self.evidence_dense
        ) * float(found.coverage[best])
        span = (found.spans[first][0], found.spans[last][1])
        return ScoredSentence(span, float(scores[best]), evidence, best)


@dataclass(frozen=True, slots=True)
class Calibration:
    """The probability that the answer sentence holds the answer, from what the searcher
    knows about it: a logistic function of its evidence, its rank score, and its margin over
    the runner-up hit's best sentence (an answer that stands out is likelier right than one
    of several alike). Fitted on news-2023 (``python -m benchmarks.answer_fit``), so that
    answers given 0.8 there are right about 80% of the time (docs/quality.md, reliability table)."""

    evidence: float
    score: float
    margin: float
    bias: float

    def confidence(self, hits: Sequence[Hit], best: Hit) -> float:
        evidence, score, margin = answer_features(hits, best)
        logit = self.evidence * evidence + self.score * score + self.margin * margin + self.bias
        return float(1 / (1 + np.exp(-logit)))


CALIBRATION = Calibration(evidence=-2.131, score=4.042, margin=3.862, bias=-3.47)


@dataclass(frozen=True, slots=True)
class Abstention:
    """When ``/ask`` declines to answer: the evidence is below ``min_evidence`` (an off-topic
    question: nothing in the index says what it asks about), or the calibrated confidence is
    below ``min_confidence`` (on topic, but no sentence stands out as the answer)."""

    min_evidence: float
    min_confidence: float


def answer_features(hits: Sequence[Hit], best: Hit) -> tuple[float, float, float]:
    """What ``Calibration`` reads of the answer ``best`` among ``hits``."""
    runner_up = max((hit.highlight_score for hit in hits if hit is not best), default=0.0)
    return best.evidence, best.highlight_score, best.highlight_score - runner_up


@dataclass(frozen=True, slots=True)
class AnswerSentence:
    hit: Hit
    start: int
    end: int
    confidence: float

    @property
    def text(self) -> str:
        return self.hit.passage.document.text[self.start : self.end]


def choose_answer(
    hits: list[Hit], abstention: Abstention, calibration: Calibration = CALIBRATION
) -> tuple[AnswerSentence | None, str | None]:
    """The best sentence over all hits, or ``(None, reason)`` when the evidence is too weak."""
    if not hits:
        return None, "no passage in these articles matches this question"
    best = max(hits, key=lambda hit: hit.highlight_score)
    if best.evidence < abstention.min_evidence:
        return None, (
            f"no passage in these articles is about what this asks "
            f"(evidence {best.evidence:.2f} < threshold {abstention.min_evidence:.2f})"
        )
    confidence = calibration.confidence(hits, best)
    if confidence < abstention.min_confidence:
        return None, (
            f"no sentence in these articles answers this confidently "
            f"(confidence {confidence:.2f} < threshold {abstention.min_confidence:.2f})"
        )
    start, end = best.highlight
    return AnswerSentence(best, start, end, confidence), None
