"""The types that search and answering share: a query's signals over its candidates, its
terms' weights, and a ranked hit. A leaf module, so that neither imports the other for them."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from indexer import PassageRef
from service.engine.cues import QuestionCues
from service.engine.query import RetrievalMode


class TermWeights:
    """A query's terms with their idf weights (summed once per query) and their ids in the
    index's vocabulary."""

    def __init__(self, terms: Sequence[str], idf: np.ndarray, ids: np.ndarray) -> None:
        self.terms = list(terms)
        self.ids = ids
        total = float(idf.sum())
        self.total = total if self.terms and total > 0 else 0.0
        self._shares = np.asarray(idf, dtype=np.float64) / (self.total or 1.0)

    def coverage_by_sentence(self, present: np.ndarray) -> np.ndarray:
        """Per sentence, the share of the query's idf mass whose terms it contains, given which
        sentences contain each term (a terms-by-sentences boolean array); 0 without terms."""
        if not self.total:
            return np.zeros(present.shape[1])
        return self._shares @ present


@dataclass(frozen=True, slots=True)
class FusionWeights:
    """Weights of the five signals in a passage's fused score (``Signals``)."""

    dense_passage: float
    dense_sentence: float
    lexical_passage: float
    coverage: float
    time: float = 0.0
    """The bonus of a passage whose article was published in the range the question's time
    words name ("this week"); in every mode."""

    def only(self, mode: RetrievalMode) -> "FusionWeights":
        """These weights restricted to one family of signals, for comparisons."""
        dense = mode != "lexical"
        lexical = mode != "dense"
        return FusionWeights(
            self.dense_passage * dense,
            self.dense_sentence * dense,
            self.lexical_passage * lexical,
            self.coverage * lexical,
            self.time,
        )


@dataclass(slots=True)
class Signals:
    """Every score of one query over the candidate passages, row i = ``passage_ids[i]``:

    dense passage    cosine of question and passage vectors
    dense sentence   best cosine of the question and one of the passage's sentences
    lexical passage  BM25 of the passage (title included), divided by the query's best BM25
    coverage         idf-weighted share of the question's terms the passage or title contains
    time             its article was published when the question's time words say (0 or 1)
    """

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
    cues: QuestionCues
    """What kind of answer the question asks for (``cues.py``)."""
    in_time: np.ndarray
    """1 for a candidate whose article was published in the question's time range, else 0
    (all 0 without time words)."""
    recency: np.ndarray
    """Each candidate's multiplier for its article's age (1 without a recency preference)."""

    def sentence_cosines(self, first: int, last: int) -> np.ndarray:
        """Cosines of the sentences ``first..last`` of one candidate (all in ``sentence_ids``,
        consecutive there since a passage's sentences are)."""
        start = int(np.searchsorted(self.sentence_ids, first))
        return self.sentence_dense[start : start + last - first + 1]

    def fused(self, weights: FusionWeights) -> np.ndarray:
        """The weighted sum of the signals, decayed by age when recency is asked for."""
        return (
            weights.dense_passage * self.dense_passage
            + weights.dense_sentence * self.dense_sentence
            + weights.lexical_passage * self.lexical_passage
            + weights.coverage * self.coverage
            + weights.time * self.in_time
        ) * self.recency


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved passage, its score, and its best-answering sentence (document offsets)."""

    passage: PassageRef
    score: float
    highlight: tuple[int, int]
    highlight_score: float
    evidence: float
    """How plainly the highlight is about what the question asks, on an absolute scale
    (cosine and term coverage, never relative to the query's best match): what ``/ask``
    compares with its off-topic threshold (``answer.Abstention``)."""
