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

from indexer.chunking import ChunkedDocument, Chunker, Passage, Sentence
from indexer.documents import Document, load_documents
from indexer.embedding import Embedder, TokenSums
from indexer.errors import IndexCorrupt, IndexIncompatible, IndexNotFound
from indexer.housekeeping import IndexLock, remove_crashed_builds, remove_retired_generations
from indexer.settings import IndexSettings
from indexer.store import IndexSnapshot, IndexStore, Manifest

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
        count = len(snapshot.documents)
        positions = np.arange(count + 1)
        self.position = {doc.doc_id: i for i, doc in enumerate(snapshot.documents)}
        self.hashes = snapshot.manifest.documents
        # Python lists: thousands of small per-document slices are faster from lists than
        # from memory-mapped structured arrays.
        passages, sentences = snapshot.passages, snapshot.sentences
        self.p_bounds = np.searchsorted(passages["doc"], positions).tolist()
        self.s_bounds = np.searchsorted(sentences["doc"], positions).tolist()
        self.p_rows = list(
            zip(
                passages["start"].tolist(),
                passages["end"].tolist(),
                passages["first"].tolist(),
                passages["last"].tolist(),
                strict=True,
            )
        )
        self.s_rows = list(zip(sentences["start"].tolist(), sentences["end"].tolist(), strict=True))

    def unchanged(self, doc: Document) -> int | None:
        """The document's position in the live generation if its content is the same."""
        if self.hashes.get(doc.doc_id) != doc.content_hash:
            return None
        return self.position.get(doc.doc_id)

    def chunked(self, doc: Document, position: int) -> ChunkedDocument:
        """Rebuild the document's sentences and passages from the stored offsets, no syntok."""
        text = doc.text
        s0, s1 = self.s_bounds[position], self.s_bounds[position + 1]
        # str.split() counts the same whitespace-separated words as word_spans, 10x faster.
        sentences = [
            Sentence(start, end, len(text[start:end].split())) for start, end in self.s_rows[s0:s1]
        ]
        p0, p1 = self.p_bounds[position], self.p_bounds[position + 1]
        passages = [
            Passage(doc.doc_id, start, end, text[start:end], first - s0, last - s0)
            for start, end, first, last in self.p_rows[p0:p1]
        ]
        return ChunkedDocument(document=doc, sentences=sentences, passages=passages)

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
        p_old = {old[self.p_rows[r][0] : self.p_rows[r][1]]: r for r in p_range}
        s_old = {old[self.s_rows[r][0] : self.s_rows[r][1]]: r for r in s_range}
        text = item.document.text
        return (
            [p_old.get(p.text, -1) for p in item.passages],
            [s_old.get(text[u.start : u.end], -1) for u in item.sentences],
        )


def _open_previous(
    store: IndexStore, embedder: Embedder, recipe: dict[str, int], passage_vectors: str
) -> _Previous | None:
    """The live generation if its vectors can be reused, else None (a full rebuild)."""
    try:
        snapshot = store.open(embedder.name, embedder.dimension)
    except IndexNotFound:
        return None
    except (IndexIncompatible, IndexCorrupt) as exc:
        log.warning("rebuilding everything: %s", exc)
        return None
    if snapshot.manifest.chunking != recipe:
        log.warning(
            "rebuilding everything: chunking changed from %s to %s",
            snapshot.manifest.chunking,
            recipe,
        )
        return None
    if snapshot.manifest.passage_vectors != passage_vectors:
        log.warning(
            "rebuilding everything: passage vectors were %s, now %s",
            snapshot.manifest.passage_vectors,
            passage_vectors,
        )
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
) -> BuildReport:
    """Bring the index up to date with ``paths`` and make the result the live generation.

    Holds ``index_dir/.lock`` throughout (waiting up to ``lock_timeout_seconds`` for another
    indexer), removes builds orphaned by a crash first and retired generations last.
    """
    began = time.perf_counter()
    store = IndexStore(settings.index_dir)
    with IndexLock(settings.index_dir, settings.lock_timeout_seconds):
        remove_crashed_builds(store)
        report = _build(paths, settings, embedder, store, progress, full, began)
        remove_retired_generations(store, settings.generation_grace_seconds)
    return report


def _build(
    paths: Iterable[Path],
    settings: IndexSettings,
    embedder: Embedder,
    store: IndexStore,
    progress: bool | None,
    full: bool,
    began: float,
) -> BuildReport:
    timings: dict[str, float] = {}
    recipe = chunking_recipe(settings)
    with _timed(timings, "load"):
        documents = unique_documents(paths)
        previous = (
            None if full else _open_previous(store, embedder, recipe, settings.passage_vectors)
        )
    chunker = Chunker(settings.target_words, settings.max_words, settings.overlap_sentences)
    # One entry per indexed document, in order: a fresh chunking, or its live position.
    plan: list[ChunkedDocument | tuple[Document, int]] = []
    added = changed = 0
    for doc in documents:
        if previous is not None and (position := previous.unchanged(doc)) is not None:
            plan.append((doc, position))
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
    unchanged = sum(isinstance(entry, tuple) for entry in plan)
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
    chunked: list[ChunkedDocument] = []
    p_source: list[int] = []
    s_source: list[int] = []
    fresh = _FreshTexts()
    pooled = settings.passage_vectors == "pooled"
    with _timed(timings, "reuse"):
        for entry in plan:
            rows: tuple[Sequence[int], Sequence[int]]
            if isinstance(entry, ChunkedDocument):
                chunked.append(entry)
                rows = (
                    previous.matching_rows(entry)
                    if previous
                    else ([-1] * len(entry.passages), [-1] * len(entry.sentences))
                )
                rows = fresh.add(entry, *rows, pooled=pooled)
            else:
                chunked.append(previous.chunked(*entry))  # type: ignore[union-attr]
                rows = previous.rows(entry[1])  # type: ignore[union-attr]
            p_source.extend(rows[0])
            s_source.extend(rows[1])
    p_src, s_src = np.array(p_source, np.int64), np.array(s_source, np.int64)
    with _timed(timings, "embed"):
        p_fresh, s_fresh, embedded = _embed(fresh, embedder, pooled, progress)
    with _timed(timings, "reuse"):
        stored = previous.snapshot if previous else None
        passage_vectors = _combine(p_src, p_fresh, stored.passage_vectors if stored else None)
        sentence_vectors = _combine(s_src, s_fresh, stored.sentence_vectors if stored else None)
    with _timed(timings, "write"):
        manifest = store.write(
            chunked,
            passage_vectors=passage_vectors,
            sentence_vectors=sentence_vectors,
            model_name=embedder.name,
            embedding_backend=getattr(embedder, "backend", "unrecorded"),
            chunking=recipe,
            passage_vector_kind=settings.passage_vectors,
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
    its sentences' tokens; otherwise passages are encoded too (~1.8x the tokens; README "Speed").
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


def _combine(source: np.ndarray, fresh: np.ndarray, stored: np.ndarray | None) -> np.ndarray:
    """Vectors in the new row order: row i is ``stored[source[i]]`` where ``source[i] >= 0``,
    else the next of ``fresh``."""
    new = source < 0
    vectors = np.empty((len(source), fresh.shape[1]), np.float32)
    vectors[new] = fresh
    kept = np.flatnonzero(~new)
    if stored is None or not len(kept):
        return vectors
    # Kept rows come in long runs of consecutive rows (whole unchanged documents in the same
    # order): copying runs as slices is several times faster than a row-by-row gather.
    breaks = np.flatnonzero((np.diff(kept) != 1) | (np.diff(source[kept]) != 1)) + 1
    starts = np.concatenate(([0], breaks)).tolist()
    ends = np.concatenate((breaks, [len(kept)])).tolist()
    for a, b in zip(starts, ends, strict=True):
        first, origin = int(kept[a]), int(source[kept[a]])
        vectors[first : first + b - a] = stored[origin : origin + b - a]
    return vectors
