"""load → chunk → embed → store: the one function that turns article files into an index."""

import logging
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.chunking import ChunkedDocument, Chunker
from indexer.documents import load_documents
from indexer.embedding import Embedder
from indexer.settings import IndexSettings
from indexer.store import IndexStore, Manifest

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did, for the CLI to print and the admin endpoint to return."""

    manifest: Manifest
    seconds: float


def chunk_documents(paths: Iterable[Path], settings: IndexSettings) -> list[ChunkedDocument]:
    """Load and chunk every document; the first of two documents with one id wins, loudly."""
    chunker = Chunker(settings.target_words, settings.max_words, settings.overlap_sentences)
    chunked: list[ChunkedDocument] = []
    seen: set[str] = set()
    for doc in load_documents(paths):
        if doc.doc_id in seen:
            log.warning("skipping a second document with id %r (from %s)", doc.doc_id, doc.path)
            continue
        seen.add(doc.doc_id)
        item = chunker.split(doc)
        if item.passages:
            chunked.append(item)
    return chunked


def build_index(
    paths: Iterable[Path],
    settings: IndexSettings,
    embedder: Embedder,
    progress: bool | None = None,
) -> BuildReport:
    """Build a new generation from ``paths`` and make it the live one."""
    began = time.perf_counter()
    chunked = chunk_documents(paths, settings)
    passage_texts = [p.text for item in chunked for p in item.passages]
    sentence_texts = [
        item.document.text[s.start : s.end] for item in chunked for s in item.sentences
    ]
    if progress is None:
        progress = sys.stderr.isatty()
    log.info(
        "embedding %d passages and %d sentences of %d documents",
        len(passage_texts),
        len(sentence_texts),
        len(chunked),
    )
    vectors = embedder.encode_passages(passage_texts + sentence_texts, progress=progress)
    vectors = vectors.reshape(-1, embedder.dimension).astype(np.float32, copy=False)
    manifest = IndexStore(settings.index_dir).write(
        chunked,
        passage_vectors=vectors[: len(passage_texts)],
        sentence_vectors=vectors[len(passage_texts) :],
        model_name=embedder.name,
        embedding_backend=getattr(embedder, "backend", "unrecorded"),
        chunking={
            "target_words": settings.target_words,
            "max_words": settings.max_words,
            "overlap_sentences": settings.overlap_sentences,
        },
    )
    return BuildReport(manifest=manifest, seconds=time.perf_counter() - began)
