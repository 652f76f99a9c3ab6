"""Searcher: from a question to ranked passages of one index generation."""

from dataclasses import dataclass

import numpy as np

from indexer import Embedder, IndexSnapshot, PassageRef
from service.answer import best_sentence


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved passage, its score, and its best-answering sentence (document offsets)."""

    passage: PassageRef
    score: float
    highlight: tuple[int, int]
    highlight_score: float


class Searcher:
    """Answers queries over one immutable generation; cheap to build, safe to share."""

    def __init__(self, snapshot: IndexSnapshot, embedder: Embedder) -> None:
        self.snapshot = snapshot
        self.embedder = embedder

    def search(self, query: str, k: int) -> list[Hit]:
        return self.search_vector(self.embedder.encode_query(query), k)

    def search_vector(self, query_vector: np.ndarray, k: int) -> list[Hit]:
        index = self.snapshot.faiss_index
        if index.ntotal == 0:
            return []
        scores, ids = index.search(query_vector.reshape(1, -1), min(k, index.ntotal))
        hits = []
        for score, passage_id in zip(scores[0], ids[0], strict=True):
            if passage_id < 0:
                continue
            passage = self.snapshot.passage(int(passage_id))
            sentence_id, sentence_score = best_sentence(self.snapshot, passage, query_vector)
            hits.append(
                Hit(
                    passage=passage,
                    score=float(score),
                    highlight=self.snapshot.sentence_span(sentence_id),
                    highlight_score=sentence_score,
                )
            )
        return hits
