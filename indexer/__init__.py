"""Turns article files into a searchable index on disk, and reads it back."""

from indexer.build import BuildReport, build_index
from indexer.chunking import Chunker, Passage
from indexer.documents import Document, load_documents
from indexer.embedding import Embedder, SentenceTransformerEmbedder, TokenSums, make_embedder
from indexer.settings import IndexSettings
from indexer.store import IndexSnapshot, IndexStore, Manifest, PassageRef

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
