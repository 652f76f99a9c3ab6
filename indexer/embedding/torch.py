"""The model on sentence-transformers with PyTorch on the CPU (``embedding_backend=torch``)."""

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from indexer.embedding.base import BaseEmbedder, TokenSums, default_model_path
from indexer.errors import EmbeddingModelError


class SentenceTransformerEmbedder(BaseEmbedder):
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
