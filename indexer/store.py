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
        lexical/              BM25 index of the passages, titles included (indexer/lexical.py)

A build writes into ``generations/.tmp-<name>``, fsyncs, renames it into place, and only then
replaces ``CURRENT``: a crash at any point leaves the previous generation live and whole.
"""

import json
import os
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import faiss
import numpy as np
from pydantic import BaseModel, ValidationError

from indexer.chunking import ChunkedDocument
from indexer.documents import Document
from indexer.errors import IndexCorrupt, IndexIncompatible, IndexNotFound
from indexer.lexical import LexicalIndex, build_lexical
from indexer.vectors import build_passage_index, read_passage_index

# 2: generations carry lexical/ (BM25), which the searcher needs.
FORMAT_VERSION = 2
CURRENT_FILE = "CURRENT"
LEXICAL_DIR = "lexical"
GENERATIONS_DIR = "generations"
TMP_PREFIX = ".tmp-"

PASSAGE_DTYPE = np.dtype(
    [("doc", "<i4"), ("start", "<i8"), ("end", "<i8"), ("first", "<i8"), ("last", "<i8")]
)
SENTENCE_DTYPE = np.dtype([("doc", "<i4"), ("start", "<i8"), ("end", "<i8")])


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
            self.passages = _mapped(path / "passages.npy")
            self.sentences = _mapped(path / "sentences.npy")
            self.sentence_vectors = _mapped(path / "sentence_vectors.npy")
            self.faiss_index = read_passage_index(path / "passages.faiss")
            self.lexical = LexicalIndex(path / LEXICAL_DIR, len(self.passages))
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            raise IndexCorrupt(f"generation {path.name} cannot be read: {exc}") from exc
        if len(self.passages) != self.faiss_index.ntotal:
            raise IndexCorrupt(f"generation {path.name}: passages and vectors disagree in count")
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
    def passage_vectors(self) -> np.ndarray:
        """Stored passage vectors: an incremental build copies these instead of re-embedding."""
        return _mapped(self.path / "passage_vectors.npy")


def _mapped(path: Path) -> np.ndarray:
    """A memory-mapped array as a plain ndarray: a request indexes these dozens of times, and
    ``np.memmap``'s Python-level ``__getitem__`` made that a fifth of a search's CPU time."""
    return np.load(path, mmap_mode="r").view(np.ndarray)


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
        chunked: Sequence[ChunkedDocument],
        passage_vectors: np.ndarray,
        sentence_vectors: np.ndarray,
        model_name: str,
        chunking: dict[str, int],
        embedding_backend: str = "unrecorded",
        passage_vector_kind: str = "encoded",
    ) -> Manifest:
        """Write a new generation and make it live in one atomic step."""
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
                chunked,
                passage_vectors,
                sentence_vectors,
                model_name,
                chunking,
                embedding_backend,
                passage_vector_kind,
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
    chunked: Sequence[ChunkedDocument],
    passage_vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    model_name: str,
    chunking: dict[str, int],
    embedding_backend: str,
    passage_vector_kind: str,
    previous_lexical: Path | None,
) -> Manifest:
    passages = np.zeros(sum(len(c.passages) for c in chunked), dtype=PASSAGE_DTYPE)
    sentences = np.zeros(sum(len(c.sentences) for c in chunked), dtype=SENTENCE_DTYPE)
    p = s = 0
    with (folder / "documents.jsonl").open("w", encoding="utf-8") as handle:
        for doc_index, item in enumerate(chunked):
            handle.write(json.dumps(asdict(item.document), ensure_ascii=False) + "\n")
            for passage in item.passages:
                passages[p] = (
                    doc_index,
                    passage.start,
                    passage.end,
                    s + passage.first_sentence,
                    s + passage.last_sentence,
                )
                p += 1
            for sentence in item.sentences:
                sentences[s] = (doc_index, sentence.start, sentence.end)
                s += 1
    if passage_vectors.shape[0] != len(passages) or sentence_vectors.shape[0] != len(sentences):
        raise ValueError("one vector per passage and per sentence is required")
    dimension = int(passage_vectors.shape[1])
    np.save(folder / "passages.npy", passages)
    np.save(folder / "sentences.npy", sentences)
    np.save(folder / "passage_vectors.npy", passage_vectors.astype(np.float32, copy=False))
    np.save(folder / "sentence_vectors.npy", sentence_vectors.astype(np.float32, copy=False))
    index, faiss_kind = build_passage_index(passage_vectors)
    faiss.write_index(index, str(folder / "passages.faiss"))
    build_lexical(
        folder / LEXICAL_DIR,
        passage_texts=[p.text for c in chunked for p in c.passages],
        passage_titles=[c.document.title for c in chunked for _ in c.passages],
        previous=previous_lexical,
    )
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        generation=name,
        model_name=model_name,
        dimension=dimension,
        built_at=built_at,
        document_count=len(chunked),
        passage_count=len(passages),
        sentence_count=len(sentences),
        chunking=chunking,
        faiss_index=faiss_kind,
        embedding_backend=embedding_backend,
        passage_vectors=passage_vector_kind,
        documents={c.document.doc_id: c.document.content_hash for c in chunked},
    )
    (folder / "manifest.json").write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
    return manifest


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
