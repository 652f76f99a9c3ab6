"""The index as read: one generation opened read-only, and the pointer naming the live one.

Writing generations is ``store.py``'s job; this module only reads what it wrote.

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
        minhashes.npy         uint32 MinHash signature of each document (indexer/stories.py)
        stories.npy           int32, per document: the row of its story's first document
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
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ValidationError

from indexer.documents import Document
from indexer.errors import IndexCorrupt, IndexIncompatible, IndexNotFound
from indexer.integrity import FileRecord, verify_files
from indexer.lexical import LexicalIndex
from indexer.stories import RECIPE, SIGNATURES_FILE, STORIES_FILE
from indexer.vectors import ROWS_FILE, mapped, read_passage_index, search_one

# 2: generations carry lexical/ (BM25), which the searcher needs.
# 3: lexical/ stores each passage's terms with their sentences, which the answer scorer reads.
# 4: documents may carry authors, and generations stories (minhashes.npy, stories.npy): code
#    that reads 3 only would fail on the first (an unknown field), so it is told to upgrade.
FORMAT_VERSION = 4
READABLE_VERSIONS = frozenset({3, 4})
"""What this code opens: version 3 reads as 4 without authors or stories (every document a
story of its own), so an upgrade serves and incrementally rebuilds an existing index."""
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
    stories: dict[str, str | int | float] = {}
    """How near-duplicate documents were grouped into stories (``stories.RECIPE``); empty in
    generations built before stories were, where every document is a story of its own."""
    files: dict[str, FileRecord] = {}
    """Size and SHA-256 of every other file of the generation, checked when it is opened
    (``integrity.py``); empty in generations built before they were recorded."""


@dataclass(frozen=True, slots=True)
class PassageRef:
    """A passage as the searcher hands it out: its document and where it sits in it."""

    passage_id: int
    document: Document
    doc_row: int
    """The document's row in the generation (``documents``, ``stories``)."""
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
            stories = path / STORIES_FILE
            self.stories = np.load(stories) if stories.exists() else np.arange(len(self.documents))
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            raise IndexCorrupt(f"generation {path.name} cannot be read: {exc}") from exc
        labels = self.faiss_index.ntotal
        live = labels if self.faiss_rows is None else int((self.faiss_rows >= 0).sum())
        if len(self.stories) != len(self.documents):
            raise IndexCorrupt(f"generation {path.name}: documents and stories disagree in count")
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
        doc_row = int(row["doc"])
        return PassageRef(
            passage_id=passage_id,
            document=self.documents[doc_row],
            doc_row=doc_row,
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
    def story_members(self) -> dict[int, list[int]]:
        """The document rows of every story that has more than one, by story."""
        members: dict[int, list[int]] = {}
        for row in np.flatnonzero(self.stories != np.arange(len(self.stories))).tolist():
            members.setdefault(int(self.stories[row]), [int(self.stories[row])]).append(row)
        return members

    def signatures(self) -> np.ndarray | None:
        """The documents' MinHash signatures, if this generation made them as builds now do."""
        path = self.path / SIGNATURES_FILE
        if self.manifest.stories != RECIPE or not path.exists():
            return None
        return mapped(path)

    @cached_property
    def passage_vectors(self) -> np.ndarray:
        """Stored passage vectors, memory-mapped: the searcher reads rows of them by id."""
        return mapped(self.path / "passage_vectors.npy")


def _read_documents(path: Path) -> list[Document]:
    with path.open(encoding="utf-8") as handle:
        return [Document(**json.loads(line)) for line in handle]


def current_generation(index_dir: Path) -> str | None:
    """The live generation's name, or None when nothing was ever built in ``index_dir``."""
    try:
        name = (index_dir / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name or None


def read_manifest(index_dir: Path, generation: str | None = None) -> Manifest:
    """The manifest of ``generation`` (default: the live one), refusing other format versions."""
    name = generation or current_generation(index_dir)
    if name is None:
        raise IndexNotFound(f"no index in {index_dir}: build one with `python -m indexer`")
    path = index_dir / GENERATIONS_DIR / name / "manifest.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexCorrupt(f"{path} is missing") from exc
    except ValueError as exc:
        raise IndexCorrupt(f"{path} is not valid JSON: {exc}") from exc
    version = raw.get("format_version") if isinstance(raw, dict) else None
    if version not in READABLE_VERSIONS:
        readable = ", ".join(str(v) for v in sorted(READABLE_VERSIONS))
        raise IndexIncompatible(
            f"index {name} has format version {version}; this code reads versions "
            f"{readable}: rebuild it with `python -m indexer --full`"
        )
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        raise IndexCorrupt(f"{path} is malformed: {exc}") from exc


def open_snapshot(
    index_dir: Path, model_name: str, dimension: int, generation: str | None = None
) -> IndexSnapshot:
    """Open a generation (default: the live one) and refuse one made by another model."""
    manifest = read_manifest(index_dir, generation)
    if manifest.model_name != model_name or manifest.dimension != dimension:
        raise IndexIncompatible(
            f"index {manifest.generation} was built with {manifest.model_name} "
            f"({manifest.dimension} dimensions), but the service uses {model_name} "
            f"({dimension} dimensions): rebuild it with `python -m indexer --full`"
        )
    folder = index_dir / GENERATIONS_DIR / manifest.generation
    verify_files(folder, manifest.files)
    return IndexSnapshot(folder, manifest)
