"""The index as written: each build becomes a new immutable generation, made live atomically.

The layout on disk is drawn in ``snapshot.py``, which reads it. A build writes into
``generations/.tmp-<name>``, fsyncs, renames it into place, and only then replaces ``CURRENT``:
a crash at any point leaves the previous generation live and whole.

Generations share no files: an incremental build writes every file of the new one, but copies
what it keeps from the previous one instead of recomputing it (kept documents' rows and
records, ``indexer/rows.py``; reused vectors, file to file, ``indexer/vectors.py``; BM25 terms,
by row, ``indexer/lexical.py``), so deleting a retired generation never touches the live one.
"""

import logging
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np

from indexer import stories
from indexer.chunking import ChunkedDocument
from indexer.documents import Document
from indexer.durable import fsync_dir, fsync_tree, write_atomically
from indexer.integrity import record_files
from indexer.lexical import CarriedTermsMissing, build_lexical
from indexer.rows import KeptDocument, row_tables, write_documents
from indexer.snapshot import (
    CURRENT_FILE,
    FORMAT_VERSION,
    GENERATIONS_DIR,
    LEXICAL_DIR,
    ROWS_FILE,
    IndexSnapshot,
    Manifest,
    current_generation,
    open_snapshot,
    read_manifest,
)
from indexer.vectors import (
    ReusedVectors,
    build_passage_index,
    extend_hnsw,
    uses_hnsw,
    write_vectors,
)

log = logging.getLogger(__name__)

TMP_PREFIX = ".tmp-"


@dataclass(frozen=True, slots=True)
class GenerationContent:
    """Everything a new generation holds, as a build hands it to the store.

    ``KeptDocument`` entries and ``ReusedVectors`` name rows of the previous generation (the
    live one an incremental build started from), which are copied, not recomputed.
    """

    entries: Sequence[ChunkedDocument | KeptDocument]
    passage_vectors: np.ndarray | ReusedVectors
    sentence_vectors: np.ndarray | ReusedVectors
    model_name: str
    chunking: dict[str, int]
    embedding_backend: str = "unrecorded"
    passage_vector_kind: str = "encoded"
    """``pooled`` or ``encoded`` (``Manifest.passage_vectors``)."""


class IndexStore:
    """Reads and writes the generations under one ``index_dir``."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)

    @property
    def generations_dir(self) -> Path:
        return self.index_dir / GENERATIONS_DIR

    def current_generation(self) -> str | None:
        """The live generation's name, or None when nothing was ever built here."""
        return current_generation(self.index_dir)

    def read_manifest(self, generation: str | None = None) -> Manifest:
        return read_manifest(self.index_dir, generation)

    def open(self, model_name: str, dimension: int, generation: str | None = None) -> IndexSnapshot:
        """Open a generation (default: the live one) and refuse one made by another model."""
        return open_snapshot(self.index_dir, model_name, dimension, generation)

    def write(
        self,
        content: GenerationContent,
        previous: IndexSnapshot | None = None,
        reuse_terms: bool = True,
    ) -> Manifest:
        """Write a new generation and make it live in one atomic step; ``previous`` is the
        generation that ``content``'s kept documents and reused vectors come from. Without
        ``reuse_terms`` (a full build) no BM25 term is taken from the live generation either:
        the build depends on the sources alone."""
        built_at = datetime.now(UTC)
        name = f"{built_at:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
        self.generations_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.generations_dir / f"{TMP_PREFIX}{name}"
        tmp.mkdir()
        try:
            manifest = _write_generation(
                tmp,
                name,
                built_at,
                content,
                previous,
                previous_lexical=(
                    self._lexical_dir(self.current_generation()) if reuse_terms else None
                ),
            )
            fsync_tree(tmp)
            final = self.generations_dir / name
            tmp.rename(final)
            fsync_dir(self.generations_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._point_current_at(name)
        return manifest

    def _lexical_dir(self, generation: str | None) -> Path | None:
        return None if generation is None else self.generations_dir / generation / LEXICAL_DIR

    def _point_current_at(self, name: str) -> None:
        write_atomically(self.index_dir / CURRENT_FILE, f"{name}\n".encode())
        fsync_dir(self.index_dir)


def _write_generation(
    folder: Path,
    name: str,
    built_at: datetime,
    content: GenerationContent,
    previous: IndexSnapshot | None,
    previous_lexical: Path | None,
) -> Manifest:
    """Every file of generation ``name`` into ``folder``, its manifest last."""
    entries = content.entries
    passage_vectors, sentence_vectors = content.passage_vectors, content.sentence_vectors
    carries = any(isinstance(e, KeptDocument) for e in entries) or any(
        isinstance(v, ReusedVectors) for v in (passage_vectors, sentence_vectors)
    )
    if carries and previous is None:
        raise ValueError("kept documents and reused vectors need the previous generation")
    passages, sentences, carried = row_tables(entries, previous)
    if _rows(passage_vectors) != len(passages) or _rows(sentence_vectors) != len(sentences):
        raise ValueError("one vector per passage and per sentence is required")
    write_documents(folder / "documents.jsonl", entries, previous, built_at.isoformat())
    np.save(folder / "passages.npy", passages)
    np.save(folder / "sentences.npy", sentences)
    old = previous.path if previous else None
    for file, vectors in (
        ("passage_vectors.npy", passage_vectors),
        ("sentence_vectors.npy", sentence_vectors),
    ):
        write_vectors(folder / file, vectors, old / file if old else None)
    stored = np.load(folder / "passage_vectors.npy", mmap_mode="r")
    dimension = int(stored.shape[1])
    extended = None
    faiss_kind = ""
    if (
        previous is not None
        and isinstance(passage_vectors, ReusedVectors)
        and uses_hnsw(len(passages))
    ):
        extended = extend_hnsw(
            previous.faiss_index,
            previous.path / "passages.faiss",
            previous.faiss_rows,
            passage_vectors,
            stored,
        )
        faiss_kind = previous.manifest.faiss_index
    if extended is None:
        index, faiss_kind = build_passage_index(stored)
    else:
        index, rows = extended
        np.save(folder / ROWS_FILE, rows)
    faiss.write_index(index, str(folder / "passages.faiss"))
    documents = [entry.document for entry in entries]
    stories.write_stories(
        folder,
        [doc.text for doc in documents],
        np.array([e.position if isinstance(e, KeptDocument) else -1 for e in entries], np.int64),
        previous.signatures() if previous is not None else None,
    )
    _write_lexical(
        folder / LEXICAL_DIR, documents, passages, sentences, carried, previous, previous_lexical
    )
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        generation=name,
        model_name=content.model_name,
        dimension=dimension,
        built_at=built_at,
        document_count=len(entries),
        passage_count=len(passages),
        sentence_count=len(sentences),
        chunking=content.chunking,
        faiss_index=faiss_kind,
        embedding_backend=content.embedding_backend,
        passage_vectors=content.passage_vector_kind,
        documents={doc.doc_id: doc.content_hash for doc in documents},
        stories=stories.RECIPE,
        files=record_files(folder),
    )
    (folder / "manifest.json").write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
    return manifest


def _rows(vectors: np.ndarray | ReusedVectors) -> int:
    return len(vectors.source if isinstance(vectors, ReusedVectors) else vectors)


def _write_lexical(
    folder: Path,
    documents: list[Document],
    passages: np.ndarray,
    sentences: np.ndarray,
    carried: np.ndarray,
    previous: IndexSnapshot | None,
    previous_lexical: Path | None,
) -> None:
    """BM25 over the passages: carried passages take the previous generation's terms by row;
    should its term cache be unreadable, every passage's sentences are tokenized instead."""
    starts, ends = sentences["start"].tolist(), sentences["end"].tolist()

    def sentences_and_titles(rows: np.ndarray) -> tuple[list[list[str]], list[str]]:
        docs = [documents[d] for d in passages["doc"][rows].tolist()]
        ranges = zip(passages["first"][rows].tolist(), passages["last"][rows].tolist(), strict=True)
        texts = [
            [doc.text[starts[i] : ends[i]] for i in range(first, last + 1)]
            for doc, (first, last) in zip(docs, ranges, strict=True)
        ]
        return texts, [doc.title for doc in docs]

    if previous is not None and (carried >= 0).any():
        try:
            build_lexical(
                folder,
                *sentences_and_titles(np.flatnonzero(carried < 0)),
                previous=previous.path / LEXICAL_DIR,
                carried=carried,
            )
            return
        except CarriedTermsMissing as exc:
            log.warning("tokenizing every passage again: %s", exc)
    build_lexical(
        folder, *sentences_and_titles(np.arange(len(passages))), previous=previous_lexical
    )
