"""load → chunk → embed → store: the one function that turns article files into an index.

Builds are incremental: every document's content hash is compared with the live generation's
manifest, and an unchanged document keeps its passages, sentences and vectors, copied from the
live generation (rows are grouped per document, in order) without re-chunking; inside an
edited document, passages and sentences whose text is unchanged keep their vectors too. Only
new text is embedded. A different model or chunking recipe, or ``full=True``, rebuilds all.
"""

import logging
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from indexer.chunking import ChunkedDocument, Chunker
from indexer.documents import Document, load_documents
from indexer.embedding import Embedder, TokenSums
from indexer.errors import IndexCorrupt, IndexIncompatible, IndexNotFound
from indexer.housekeeping import IndexLock, remove_crashed_builds, remove_retired_generations
from indexer.pushed import pushed_dir
from indexer.rows import KeptDocument
from indexer.settings import IndexSettings
from indexer.snapshot import IndexSnapshot, Manifest
from indexer.store import GenerationContent, IndexStore
from indexer.vectors import ReusedVectors

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did, for the CLI to print and the admin endpoint to return."""

    manifest: Manifest
    """The live generation after the build (the previous one when nothing changed)."""
    seconds: float
    added: int = 0
    changed: int = 0
    deleted: int = 0
    unchanged: int = 0
    full: bool = True
    """Everything was embedded: first build, ``--full``, or another model or chunking recipe."""
    written: bool = True
    """False when no document changed, so no new generation was written."""
    embedded: int = 0
    """Distinct texts (sentences, and passages unless pooled) the embedding model read."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent per phase: load, chunk, reuse, embed, write."""

    def summary(self) -> str:
        """One line for logs and the CLI."""
        kind = "full rebuild" if self.full else "incremental"
        head = (
            f"{kind}: {self.added} added, {self.changed} changed, {self.deleted} deleted, "
            f"{self.unchanged} unchanged"
        )
        if not self.written:
            return f"{head}; nothing to do, generation {self.manifest.generation} stays live"
        parts = ", ".join(f"{name} {secs:.2f}s" for name, secs in self.timings.items())
        return (
            f"{head}; embedded {self.embedded} texts; {self.manifest.document_count} documents, "
            f"{self.manifest.passage_count} passages in {self.seconds:.2f}s ({parts}) "
            f"-> generation {self.manifest.generation}"
        )


def chunking_recipe(settings: IndexSettings) -> dict[str, int]:
    """The settings that decide passage boundaries; a change invalidates every stored passage."""
    return {
        "target_words": settings.target_words,
        "max_words": settings.max_words,
        "overlap_sentences": settings.overlap_sentences,
    }


def source_paths(paths: Iterable[Path], index_dir: Path) -> list[Path]:
    """The paths a build reads: the given ones, and the index's folder of pushed articles
    (``pushed.py``), which every build reads so that a rebuild never loses them."""
    given = list(paths)
    pushed = pushed_dir(index_dir)
    known = {path.resolve() for path in given}
    return [*given, pushed] if pushed.is_dir() and pushed.resolve() not in known else given


def unique_documents(paths: Iterable[Path]) -> list[Document]:
    """Load every document; the first of two documents with one id wins, loudly."""
    documents: list[Document] = []
    seen: set[str] = set()
    for doc in load_documents(paths):
        if doc.doc_id in seen:
            log.warning("skipping a second document with id %r (from %s)", doc.doc_id, doc.path)
            continue
        seen.add(doc.doc_id)
        documents.append(doc)
    return documents


class _Previous:
    """The live generation, laid out per document so unchanged ones can be copied cheaply."""

    def __init__(self, snapshot: IndexSnapshot) -> None:
        self.snapshot = snapshot
        self.position = {doc.doc_id: i for i, doc in enumerate(snapshot.documents)}
        self.hashes = snapshot.manifest.documents
        p_bounds, s_bounds = snapshot.document_rows
        self.p_bounds, self.s_bounds = p_bounds.tolist(), s_bounds.tolist()

    def unchanged(self, doc: Document) -> int | None:
        """The document's position in the live generation if its content is the same."""
        if self.hashes.get(doc.doc_id) != doc.content_hash:
            return None
        return self.position.get(doc.doc_id)

    def rows(self, position: int) -> tuple[range, range]:
        """The passage and sentence rows of the document at ``position``."""
        return (
            range(self.p_bounds[position], self.p_bounds[position + 1]),
            range(self.s_bounds[position], self.s_bounds[position + 1]),
        )

    def matching_rows(self, item: ChunkedDocument) -> tuple[list[int], list[int]]:
        """For each passage and sentence of an edited document, the row of its previous
        version with the very same text, or -1: fixing a typo re-embeds one sentence and the
        passages holding it, not the whole article."""
        position = self.position.get(item.document.doc_id)
        if position is None:
            return [-1] * len(item.passages), [-1] * len(item.sentences)
        old = self.snapshot.documents[position].text
        p_range, s_range = self.rows(position)
        p_old = _texts_by_row(old, self.snapshot.passages[p_range.start : p_range.stop], p_range)
        s_old = _texts_by_row(old, self.snapshot.sentences[s_range.start : s_range.stop], s_range)
        text = item.document.text
        return (
            [p_old.get(p.text, -1) for p in item.passages],
            [s_old.get(text[u.start : u.end], -1) for u in item.sentences],
        )


def _texts_by_row(text: str, rows: np.ndarray, numbers: range) -> dict[str, int]:
    spans = zip(rows["start"].tolist(), rows["end"].tolist(), strict=True)
    return {text[a:b]: row for row, (a, b) in zip(numbers, spans, strict=True)}


def _open_previous(
    store: IndexStore,
    embedder: Embedder,
    recipe: dict[str, int],
    passage_vectors: str,
    live: IndexSnapshot | None,
) -> _Previous | None:
    """The live generation if its vectors can be reused, else None (a full rebuild); ``live``
    is used as it is when it is still the live generation, of this model."""
    model = (embedder.name, embedder.dimension)
    try:
        if (
            live is not None
            and live.generation == store.current_generation()
            and (live.manifest.model_name, live.manifest.dimension) == model
        ):
            snapshot = live
        else:
            snapshot = store.open(*model)
    except IndexNotFound:
        return None
    except (IndexIncompatible, IndexCorrupt) as exc:
        log.warning("rebuilding everything: %s", exc)
        return None
    manifest = snapshot.manifest
    for what, before, now in (
        ("chunking", manifest.chunking, recipe),
        ("passage vectors", manifest.passage_vectors, passage_vectors),
    ):
        if before != now:
            log.warning("rebuilding everything: %s changed from %s to %s", what, before, now)
            return None
    return _Previous(snapshot)


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    began = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - began


def build_index(
    paths: Iterable[Path],
    settings: IndexSettings,
    embedder: Embedder,
    progress: bool | None = None,
    full: bool = False,
    live: IndexSnapshot | None = None,
) -> BuildReport:
    """Bring the index up to date with ``paths`` and make the result the live generation.

    Holds ``index_dir/.lock`` throughout (waiting up to ``lock_timeout_seconds`` for another
    indexer), removes builds orphaned by a crash first and retired generations last. A caller
    that has the live generation open already (the service) passes it as ``live``, so the
    build reuses it instead of reading its documents again.
    """
    began = time.perf_counter()
    store = IndexStore(settings.index_dir)
    with IndexLock(settings.index_dir, settings.lock_timeout_seconds):
        remove_crashed_builds(store)
        report = _build(paths, settings, embedder, store, progress, full, live, began)
        remove_retired_generations(store, settings.generation_grace_seconds)
    return report


def _build(
    paths: Iterable[Path],
    settings: IndexSettings,
    embedder: Embedder,
    store: IndexStore,
    progress: bool | None,
    full: bool,
    live: IndexSnapshot | None,
    began: float,
) -> BuildReport:
    timings: dict[str, float] = {}
    recipe = chunking_recipe(settings)
    with _timed(timings, "load"):
        documents = unique_documents(source_paths(paths, settings.index_dir))
        previous = (
            None
            if full
            else _open_previous(store, embedder, recipe, settings.passage_vectors, live)
        )
    chunker = Chunker(settings.target_words, settings.max_words, settings.overlap_sentences)
    # One entry per indexed document, in order: a fresh chunking, or its live position.
    plan: list[ChunkedDocument | KeptDocument] = []
    added = changed = 0
    for doc in documents:
        if previous is not None and (position := previous.unchanged(doc)) is not None:
            plan.append(KeptDocument(doc, position))
            continue
        with _timed(timings, "chunk"):
            item = chunker.split(doc)
        known = previous is not None and doc.doc_id in previous.hashes
        if item.passages:
            plan.append(item)
        elif not known:
            continue  # never indexed and nothing to index: not a change
        if known:
            changed += 1
        else:
            added += 1
    unchanged = sum(isinstance(entry, KeptDocument) for entry in plan)
    live_ids = {doc.doc_id for doc in documents}
    deleted = len([i for i in previous.hashes if i not in live_ids]) if previous else 0
    if previous is not None and not (added or changed or deleted):
        return BuildReport(
            manifest=previous.snapshot.manifest,
            seconds=time.perf_counter() - began,
            full=False,
            written=False,
            timings=timings,
            unchanged=unchanged,
        )
    # Where each row's vector comes from: a row of the live generation, or -1 (embed it).
    p_source: list[int] = []
    s_source: list[int] = []
    fresh = _FreshTexts()
    pooled = settings.passage_vectors == "pooled"
    with _timed(timings, "reuse"):
        for entry in plan:
            rows: tuple[Sequence[int], Sequence[int]]
            if isinstance(entry, KeptDocument):
                rows = previous.rows(entry.position)  # type: ignore[union-attr]
            else:
                rows = (
                    previous.matching_rows(entry)
                    if previous
                    else ([-1] * len(entry.passages), [-1] * len(entry.sentences))
                )
                rows = fresh.add(entry, *rows, pooled=pooled)
            p_source.extend(rows[0])
            s_source.extend(rows[1])
    p_src, s_src = np.array(p_source, np.int64), np.array(s_source, np.int64)
    with _timed(timings, "embed"):
        p_fresh, s_fresh, embedded = _embed(fresh, embedder, pooled, progress)
    with _timed(timings, "write"):
        # Kept rows' vectors are copied file to file by the store, never read in here.
        content = GenerationContent(
            plan,
            passage_vectors=ReusedVectors(p_src, p_fresh) if previous else p_fresh,
            sentence_vectors=ReusedVectors(s_src, s_fresh) if previous else s_fresh,
            model_name=embedder.name,
            embedding_backend=embedder.backend,
            chunking=recipe,
            passage_vector_kind=settings.passage_vectors,
        )
        manifest = store.write(
            content, previous=previous.snapshot if previous else None, reuse_terms=not full
        )
    return BuildReport(
        manifest=manifest,
        seconds=time.perf_counter() - began,
        full=previous is None,
        embedded=embedded,
        timings=timings,
        added=added,
        changed=changed,
        deleted=deleted,
        unchanged=unchanged,
    )


@dataclass(slots=True)
class _FreshTexts:
    """The passages and sentences a build must embed, and for each passage the positions of its
    sentences in ``sentences`` (what a pooled passage vector is made of)."""

    passages: list[str] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    members: list[range] = field(default_factory=list)

    def add(
        self, item: ChunkedDocument, p_rows: Sequence[int], s_rows: Sequence[int], pooled: bool
    ) -> tuple[Sequence[int], Sequence[int]]:
        """Queue the texts of ``item`` whose row is -1 (no stored vector to reuse); returns the
        rows, with those of a new passage's sentences set to -1 when passage vectors are pooled
        from sentences: the pool needs every member's token sums, which are not stored."""
        if pooled:
            s_rows = list(s_rows)
            for passage, row in zip(item.passages, p_rows, strict=True):
                if row < 0:
                    for i in range(passage.first_sentence, passage.last_sentence + 1):
                        s_rows[i] = -1
        text = item.document.text
        position: dict[int, int] = {}
        for i, (sentence, row) in enumerate(zip(item.sentences, s_rows, strict=True)):
            if row < 0:
                position[i] = len(self.sentences)
                self.sentences.append(text[sentence.start : sentence.end])
        for passage, row in zip(item.passages, p_rows, strict=True):
            if row < 0:
                self.passages.append(passage.text)
                if pooled:  # all of its sentences are fresh, hence queued one after another
                    first = position[passage.first_sentence]
                    size = passage.last_sentence - passage.first_sentence + 1
                    self.members.append(range(first, first + size))
        return p_rows, s_rows


def _embed(
    fresh: _FreshTexts, embedder: Embedder, pooled: bool, progress: bool | None
) -> tuple[np.ndarray, np.ndarray, int]:
    """Vectors of the fresh passages and sentences, from one encoder call (one progress bar),
    and how many distinct texts the model read.

    Pooled: only sentences go through the model, and each passage's vector is mean-pooled over
    its sentences' tokens; otherwise passages are encoded too (~1.8x the tokens; docs/speed.md).
    """
    if progress is None:
        progress = sys.stderr.isatty()
    encoded = [] if pooled else fresh.passages
    log.info(
        "embedding %d sentences%s",
        len(fresh.sentences),
        "" if pooled else f" and {len(encoded)} passages",
    )
    # Syndicated copies and boilerplate repeat sentences word for word: embed each text once.
    texts = fresh.sentences + encoded
    distinct = {text: row for row, text in enumerate(dict.fromkeys(texts))}
    unique = embedder.encode_token_sums(list(distinct), progress=progress)
    sums = TokenSums(unique.sums[[distinct[text] for text in texts]])
    vectors = sums.vectors()
    sentences = vectors[: len(fresh.sentences)]
    if pooled:
        return sums.pooled(fresh.members), sentences, len(distinct)
    return vectors[len(fresh.sentences) :], sentences, len(distinct)
