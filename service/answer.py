"""The single best answering sentence among retrieved passages, or an honest abstention."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from indexer import IndexSnapshot, PassageRef

if TYPE_CHECKING:
    from service.search import Hit


@dataclass(frozen=True, slots=True)
class AnswerSentence:
    hit: "Hit"
    start: int
    end: int
    score: float

    @property
    def text(self) -> str:
        return self.hit.passage.document.text[self.start : self.end]


def best_sentence(
    snapshot: IndexSnapshot, passage: PassageRef, query_vector: np.ndarray
) -> tuple[int, float]:
    """The passage's sentence closest to the query: ``(sentence id, cosine similarity)``."""
    vectors = snapshot.sentence_vectors[passage.first_sentence : passage.last_sentence + 1]
    similarities = np.asarray(vectors) @ query_vector
    best = int(np.argmax(similarities))
    return passage.first_sentence + best, float(similarities[best])


def answer_score(hit: "Hit") -> float:
    """Blend sentence and passage similarity: a sentence is a better answer when its
    surrounding passage is on topic too, which damps one-off lexical coincidences."""
    return 0.5 * hit.highlight_score + 0.5 * hit.score


def choose_answer(hits: list["Hit"], min_score: float) -> tuple[AnswerSentence | None, str | None]:
    """The best sentence over all hits, or ``(None, reason)`` when the evidence is too weak."""
    if not hits:
        return None, "the index has no passages to answer from"
    best = max(hits, key=answer_score)
    score = answer_score(best)
    if score < min_score:
        return None, (
            f"no passage in these articles answers this confidently "
            f"(best score {score:.2f} < threshold {min_score:.2f})"
        )
    start, end = best.highlight
    return AnswerSentence(hit=best, start=start, end=end, score=score), None
