"""Turns article files into a searchable index on disk, and reads it back.

The names below are imported on first use, not with the package: ``python -m indexer`` starts
opening the model (onnxruntime, in a background thread) before it imports the modules a build
needs besides (BM25 with scipy, FAISS), and the two overlap: ~0.2 s of a 2 s run.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from indexer.build import BuildReport, build_index
    from indexer.chunking import Chunker, Passage
    from indexer.documents import Document, load_documents
    from indexer.embedding import Embedder, TokenSums, make_embedder
    from indexer.embedding.torch import SentenceTransformerEmbedder
    from indexer.settings import IndexSettings
    from indexer.snapshot import IndexSnapshot, Manifest, PassageRef
    from indexer.store import IndexStore

_HOMES = {
    "BuildReport": "indexer.build",
    "build_index": "indexer.build",
    "Chunker": "indexer.chunking",
    "Passage": "indexer.chunking",
    "Document": "indexer.documents",
    "load_documents": "indexer.documents",
    "Embedder": "indexer.embedding",
    "SentenceTransformerEmbedder": "indexer.embedding.torch",
    "TokenSums": "indexer.embedding",
    "make_embedder": "indexer.embedding",
    "IndexSettings": "indexer.settings",
    "IndexSnapshot": "indexer.snapshot",
    "IndexStore": "indexer.store",
    "Manifest": "indexer.snapshot",
    "PassageRef": "indexer.snapshot",
}

__all__ = [
    "BuildReport",
    "Chunker",
    "Document",
    "Embedder",
    "IndexSettings",
    "IndexSnapshot",
    "IndexStore",
    "Manifest",
    "Passage",
    "PassageRef",
    "SentenceTransformerEmbedder",
    "TokenSums",
    "build_index",
    "load_documents",
    "make_embedder",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'indexer' has no attribute {name!r}")
    return getattr(import_module(home), name)
