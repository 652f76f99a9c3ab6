"""The index on disk: immutable generations and one pointer naming the live one.

Layout of ``index_dir``::

    CURRENT                   the live generation's name, replaced atomically (os.replace)
    generations/<name>/       one complete, never-modified build:
        manifest.json         format version, model, dimension, counts, per-document hashes
        documents.jsonl       the documents, text included (citations are checked against it)
        passages.npy          structured array: doc, start, end, first/last sentence
        sentences.npy         structured array: doc, start, end (answer units)
        passage_vectors.npy   float32 unit vectors, row i = passage i
        sentence_vectors.npy  float32 unit vectors, row i = sentence i
        passages.faiss        FAISS inner-product index over passage_vectors
        lexical/              BM25 index of the passages, titles included, and each passage's
                              terms with the sentence they come from (indexer/lexical.py)
    .lock                     held by the one process writing a generation (housekeeping.py)
    .watch.lock               held by the one service process watching the sources (watch.py)

A build writes into ``generations/.tmp-<name>``, fsyncs, renames it into place, and only then
replaces ``CURRENT``: a crash at any point leaves the previous generation live and whole.

Generations share no files: an incremental build writes every file of the new one, but copies
what it keeps from the previous one instead of recomputing it (kept documents' rows and
records, ``indexer/rows.py``; reused vectors, file to file, ``indexer/vectors.py``; BM25 terms,
by row, ``indexer/lexical.py``), so deleting a retired generation never touches the live one.
"""

import json
import logging
import os
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import faiss
import numpy as np
from pydantic import BaseModel, ValidationError

from indexer.chunking import ChunkedDocument
from indexer.documents import Document
from indexer.errors import IndexCorrupt, IndexIncompatible, IndexNotFound
from indexer.lexical import CarriedTermsMissing, LexicalIndex, build_lexical
from indexer.rows import KeptDocument, row_tables, write_documents
from indexer.vectors import (
    ROWS_FILE,
    ReusedVectors,
    build_passage_index,
    extend_hnsw,
    mapped,
    read_passage_index,
    search_one,
    uses_hnsw,
    write_vectors,
)

log = logging.getLogger(__name__)

# 2: generations carry lexical/ (BM25), which the searcher needs.
# 3: lexical/ stores each passage's terms with their sentences, which the answer scorer reads.
FORMAT_VERSION = 3
CURRENT_FILE = "CURRENT"
LEXICAL_DIR = "lexical"
GENERATIONS_DIR = "generations"
TMP_PREFIX = ".tmp-"


class Manifest(BaseModel):
    """What a generation is and how it was made; read before anything else is trusted."""

    format_version: int
    generation: str
    model_name: str
    dimension: int
    built_at: datetime
    document_count: int
    passage_count: int
    sentence_count: int
    chunking: dict[str, int]
    faiss_index: str
    embedding_backend: str = "unrecorded"
    """How the vectors were computed (torch, onnx, onnx-int8), for information only: the backends
    agree to cosine >= 0.985, so an index stays readable by any backend of the same model."""
    passage_vectors: str = "encoded"
    """How passage vectors were made: ``pooled`` from their sentences' token embeddings, or
    ``encoded`` by running the model over each passage (what generations without this field
    did); a build with the other setting re-embeds everything."""
    documents: dict[str, str]
    """Content hash of every document, by id: what an incremental build compares against."""


@dataclass(frozen=True, slots=True)
class PassageRef:
    """A passage as the searcher hands it out: its document and where it sits in it."""

    passage_id: int
    document: Document
    start: int
    end: int
    first_sentence: int
    last_sentence: int

    @property
    def text(self) -> str:
        return self.document.text[self.start : self.end]


class IndexSnapshot:
    """One generation opened read-only. Immutable, so requests can share it across threads."""

    def __init__(self, path: Path, manifest: Manifest) -> None:
        self.path = path
        self.manifest = manifest
        try:
            self.documents = _read_documents(path / "documents.jsonl")
            self.passages = mapped(path / "passages.npy")
            self.sentences = mapped(path / "sentences.npy")
            self.sentence_vectors = mapped(path / "sentence_vectors.npy")
            self.faiss_index = read_passage_index(path / "passages.faiss")
            rows_file = path / ROWS_FILE
            self.faiss_rows = mapped(rows_file) if rows_file.exists() else None
            self.lexical = LexicalIndex(path / LEXICAL_DIR, len(self.passages))
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            raise IndexCorrupt(f"generation {path.name} cannot be read: {exc}") from exc
        labels = self.faiss_index.ntotal
        live = labels if self.faiss_rows is None else int((self.faiss_rows >= 0).sum())
        if len(self.passages) != live or (
            self.faiss_rows is not None and len(self.faiss_rows) != labels
        ):
            raise IndexCorrupt(f"generation {path.name}: passages and vectors disagree in count")
        self._dead_share = 1 - live / labels if labels else 0.0
        self._by_id = {doc.doc_id: i for i, doc in enumerate(self.documents)}

    @property
    def generation(self) -> str:
        return self.manifest.generation

    def document(self, doc_id: str) -> Document | None:
        position = self._by_id.get(doc_id)
        return None if position is None else self.documents[position]

    def passage(self, passage_id: int) -> PassageRef:
        row = self.passages[passage_id]
        return PassageRef(
            passage_id=passage_id,
            document=self.documents[int(row["doc"])],
            start=int(row["start"]),
            end=int(row["end"]),
            first_sentence=int(row["first"]),
            last_sentence=int(row["last"]),
        )

    @cached_property
    def document_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """Per document, where its passage rows and its sentence rows begin (rows are grouped
        by document, in order): document ``i`` owns passages ``p[i]..p[i+1]-1`` and sentences
        ``s[i]..s[i+1]-1`` of ``(p, s)``."""
        positions = np.arange(len(self.documents) + 1)
        return (
            np.searchsorted(self.passages["doc"], positions),
            np.searchsorted(self.sentences["doc"], positions),
        )

    def document_lines(self) -> list[bytes]:
        """The stored records of the documents, as written: one JSON line each, in order."""
        lines = (self.path / "documents.jsonl").read_bytes().split(b"\n")
        if len(lines) != len(self.documents) + 1:
            raise IndexCorrupt(f"generation {self.path.name}: documents.jsonl changed under us")
        return [line + b"\n" for line in lines[:-1]]

    def nearest_passages(self, vector: np.ndarray, count: int) -> np.ndarray:
        """Rows of up to ``count`` passages nearest to the unit ``vector`` (FAISS's order)."""
        # An extended graph still holds labels of gone passages: ask for enough more to
        # make up for the share of them, then drop them.
        extra = int(np.ceil(count * self._dead_share / (1 - self._dead_share))) + (
            2 if self._dead_share else 0
        )
        labels = search_one(self.faiss_index, vector, count + extra)
        labels = labels[labels >= 0]
        if self.faiss_rows is None:
            return labels[:count]
        rows = self.faiss_rows[labels]
        return rows[rows >= 0][:count]

    @cached_property
    def passage_vectors(self) -> np.ndarray:
        """Stored passage vectors, memory-mapped: the searcher reads rows of them by id."""
        return mapped(self.path / "passage_vectors.npy")


def _read_documents(path: Path) -> list[Document]:
    with path.open(encoding="utf-8") as handle:
        return [Document(**json.loads(line)) for line in handle]


class IndexStore:
    """Reads and writes the generations under one ``index_dir``."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)

    @property
    def generations_dir(self) -> Path:
        return self.index_dir / GENERATIONS_DIR

    def current_generation(self) -> str | None:
        """The live generation's name, or None when nothing was ever built here."""
        try:
            name = (self.index_dir / CURRENT_FILE).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name or None

    def read_manifest(self, generation: str | None = None) -> Manifest:
        name = generation or self.current_generation()
        if name is None:
            raise IndexNotFound(f"no index in {self.index_dir}: build one with `python -m indexer`")
        path = self.generations_dir / name / "manifest.json"
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise IndexCorrupt(f"{path} is missing") from exc
        except ValueError as exc:
            raise IndexCorrupt(f"{path} is not valid JSON: {exc}") from exc
        version = raw.get("format_version") if isinstance(raw, dict) else None
        if version != FORMAT_VERSION:
            raise IndexIncompatible(
                f"index {name} has format version {version}; this code reads version "
                f"{FORMAT_VERSION}: rebuild it with `python -m indexer --full`"
            )
        try:
            return Manifest.model_validate(raw)
        except ValidationError as exc:
            raise IndexCorrupt(f"{path} is malformed: {exc}") from exc

    def open(self, model_name: str, dimension: int, generation: str | None = None) -> IndexSnapshot:
        """Open a generation (default: the live one) and refuse one made by another model."""
        manifest = self.read_manifest(generation)
        if manifest.model_name != model_name or manifest.dimension != dimension:
            raise IndexIncompatible(
                f"index {manifest.generation} was built with {manifest.model_name} "
                f"({manifest.dimension} dimensions), but the service uses {model_name} "
                f"({dimension} dimensions): rebuild it with `python -m indexer --full`"
            )
        return IndexSnapshot(self.generations_dir / manifest.generation, manifest)

    def write(
        self,
        entries: Sequence[ChunkedDocument | KeptDocument],
        passage_vectors: np.ndarray | ReusedVectors,
        sentence_vectors: np.ndarray | ReusedVectors,
        model_name: str,
        chunking: dict[str, int],
        embedding_backend: str = "unrecorded",
        passage_vector_kind: str = "encoded",
        previous: IndexSnapshot | None = None,
    ) -> Manifest:
        """Write a new generation and make it live in one atomic step.

        ``KeptDocument`` entries and ``ReusedVectors`` name rows of ``previous`` (the live
        generation an incremental build started from), which are copied, not recomputed.
        """
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
                entries,
                passage_vectors,
                sentence_vectors,
                model_name,
                chunking,
                embedding_backend,
                passage_vector_kind,
                previous,
                previous_lexical=self._lexical_dir(self.current_generation()),
            )
            _fsync_tree(tmp)
            final = self.generations_dir / name
            tmp.rename(final)
            _fsync_dir(self.generations_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._point_current_at(name)
        return manifest

    def _lexical_dir(self, generation: str | None) -> Path | None:
        return None if generation is None else self.generations_dir / generation / LEXICAL_DIR

    def _point_current_at(self, name: str) -> None:
        pointer = self.index_dir / f"{CURRENT_FILE}.tmp"
        with pointer.open("w", encoding="utf-8") as handle:
            handle.write(name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(pointer, self.index_dir / CURRENT_FILE)
        _fsync_dir(self.index_dir)


def _write_generation(
    folder: Path,
    name: str,
    built_at: datetime,
    entries: Sequence[ChunkedDocument | KeptDocument],
    passage_vectors: np.ndarray | ReusedVectors,
    sentence_vectors: np.ndarray | ReusedVectors,
    model_name: str,
    chunking: dict[str, int],
    embedding_backend: str,
    passage_vector_kind: str,
    previous: IndexSnapshot | None,
    previous_lexical: Path | None,
) -> Manifest:
    carries = any(isinstance(e, KeptDocument) for e in entries) or any(
        isinstance(v, ReusedVectors) for v in (passage_vectors, sentence_vectors)
    )
    if carries and previous is None:
        raise ValueError("kept documents and reused vectors need the previous generation")
    passages, sentences, carried = row_tables(entries, previous)
    if _rows(passage_vectors) != len(passages) or _rows(sentence_vectors) != len(sentences):
        raise ValueError("one vector per passage and per sentence is required")
    write_documents(folder / "documents.jsonl", entries, previous)
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
    _write_lexical(
        folder / LEXICAL_DIR, documents, passages, sentences, carried, previous, previous_lexical
    )
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        generation=name,
        model_name=model_name,
        dimension=dimension,
        built_at=built_at,
        document_count=len(entries),
        passage_count=len(passages),
        sentence_count=len(sentences),
        chunking=chunking,
        faiss_index=faiss_kind,
        embedding_backend=embedding_backend,
        passage_vectors=passage_vector_kind,
        documents={doc.doc_id: doc.content_hash for doc in documents},
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


def _fsync_tree(folder: Path) -> None:
    for entry in folder.iterdir():
        if entry.is_dir():
            _fsync_tree(entry)
            continue
        with entry.open("rb") as handle:
            os.fsync(handle.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
