"""Embedding backends behind one protocol, chosen by name (``embedding_backend``).

    base.py         the ``Embedder`` protocol with its declared capabilities, ``TokenSums``
    torch.py        sentence-transformers on PyTorch
    onnx.py         the same model on onnxruntime, fp32 or int8 (exported by onnx_export.py)

A backend's module is imported only when it is made: the service never imports torch.
"""

import os
from collections.abc import Callable

from indexer.embedding.base import (
    MAX_QUERY_BATCH,
    BaseEmbedder,
    Embedder,
    TokenSums,
    default_model_path,
)
from indexer.settings import IndexSettings

__all__ = [
    "BACKENDS",
    "MAX_QUERY_BATCH",
    "BaseEmbedder",
    "Embedder",
    "TokenSums",
    "default_model_path",
    "make_embedder",
]


def _torch(settings: IndexSettings, threads: int, serving: bool) -> Embedder:
    from indexer.embedding.torch import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(
        settings.model_path, settings.model_name, settings.batch_size, threads
    )


def _onnx(quantized: bool) -> Callable[[IndexSettings, int, bool], Embedder]:
    def make(settings: IndexSettings, threads: int, serving: bool) -> Embedder:
        from indexer.embedding.onnx import OnnxEmbedder

        return OnnxEmbedder(
            settings.model_path or default_model_path(),
            settings.model_name,
            settings.onnx_cache_dir,
            quantized=quantized,
            batch_size=settings.batch_size,
            threads=threads,
            serving=serving,
        )

    return make


BACKENDS: dict[str, Callable[[IndexSettings, int, bool], Embedder]] = {
    "torch": _torch,
    "onnx": _onnx(quantized=False),
    "onnx-int8": _onnx(quantized=True),
}
"""Backend name (``IndexSettings.embedding_backend``) -> factory(settings, threads, serving)."""


def make_embedder(settings: IndexSettings, serving: bool = False) -> Embedder:
    """The embedder ``settings.embedding_backend`` names; both CLIs and the service call this.
    ``serving``: the caller encodes queries first (the service), not passages (an indexer)."""
    threads = settings.threads or os.cpu_count() or 1
    return BACKENDS[settings.embedding_backend](settings, threads, serving)
