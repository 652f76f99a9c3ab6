"""The rows of a new generation: the passages and sentences tables and the document records.

New documents' rows are built from their chunking; a kept document's rows are copied from the
previous generation as whole arrays (renumbered to their new positions) and its record as the
bytes written last time, so an incremental build does per-document work only for what changed.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

from indexer.chunking import ChunkedDocument
from indexer.documents import Document
from indexer.snapshot import IndexSnapshot

PASSAGE_DTYPE = np.dtype(
    [("doc", "<i4"), ("start", "<i8"), ("end", "<i8"), ("first", "<i8"), ("last", "<i8")]
)
SENTENCE_DTYPE = np.dtype([("doc", "<i4"), ("start", "<i8"), ("end", "<i8")])
_DOCUMENT_FIELDS = [f.name for f in fields(Document)]


@dataclass(frozen=True, slots=True)
class KeptDocument:
    """A document whose content is unchanged since the previous generation: the next one
    copies its rows, vectors and BM25 terms from there instead of chunking it again."""

    document: Document
    """As loaded now: the same content, though its file may have moved."""
    position: int
    """Its index among the previous generation's documents."""


def row_tables(
    entries: Sequence[ChunkedDocument | KeptDocument], previous: IndexSnapshot | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The passages and sentences tables, and each passage's row in ``previous`` when it is
    carried over with its document (else -1).

    Kept documents' rows are copied from ``previous`` as whole arrays (renumbered to their new
    document and sentence positions); only new documents' rows are filled one by one.
    """
    kept = [i for i, e in enumerate(entries) if isinstance(e, KeptDocument)]
    positions = np.array([e.position for e in entries if isinstance(e, KeptDocument)], np.int64)
    p_count = np.zeros(len(entries), dtype=np.int64)
    s_count = np.zeros(len(entries), dtype=np.int64)
    if previous is not None and kept:
        p_bounds, s_bounds = previous.document_rows
        p_count[kept] = p_bounds[positions + 1] - p_bounds[positions]
        s_count[kept] = s_bounds[positions + 1] - s_bounds[positions]
    fresh = [(i, e) for i, e in enumerate(entries) if isinstance(e, ChunkedDocument)]
    for i, item in fresh:
        p_count[i], s_count[i] = len(item.passages), len(item.sentences)
    p_start = np.cumsum(p_count) - p_count
    s_start = np.cumsum(s_count) - s_count
    passages = np.zeros(int(p_count.sum()), dtype=PASSAGE_DTYPE)
    sentences = np.zeros(int(s_count.sum()), dtype=SENTENCE_DTYPE)
    carried = np.full(len(passages), -1, dtype=np.int64)
    if previous is not None and kept:
        documents = np.array(kept, dtype=np.int64)
        old_p = _spread(p_bounds[positions], p_count[documents])
        new_p = _spread(p_start[documents], p_count[documents])
        rows = np.asarray(previous.passages[old_p])
        shift = np.repeat(s_start[documents] - s_bounds[positions], p_count[documents])
        rows["doc"] = np.repeat(documents, p_count[documents])
        rows["first"] += shift
        rows["last"] += shift
        passages[new_p] = rows
        carried[new_p] = old_p
        old_s = _spread(s_bounds[positions], s_count[documents])
        rows = np.asarray(previous.sentences[old_s])
        rows["doc"] = np.repeat(documents, s_count[documents])
        sentences[_spread(s_start[documents], s_count[documents])] = rows
    for i, item in fresh:
        p, s = int(p_start[i]), int(s_start[i])
        passages[p : p + len(item.passages)] = [
            (i, u.start, u.end, s + u.first_sentence, s + u.last_sentence) for u in item.passages
        ]
        sentences[s : s + len(item.sentences)] = [(i, u.start, u.end) for u in item.sentences]
    return passages, sentences, carried


def _spread(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``starts[0] .. starts[0]+counts[0]-1``, then the same for the next pair, and so on."""
    return np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(counts.sum())


def write_documents(
    path: Path,
    entries: Sequence[ChunkedDocument | KeptDocument],
    previous: IndexSnapshot | None,
    indexed_at: str,
) -> None:
    """One JSON line per document; a kept document's line is copied from ``previous`` as
    bytes when its record there is identical (its file may have moved: the path differs).
    New and changed documents are ``indexed_at`` now; kept ones keep their time."""
    lines = previous.document_lines() if previous else []
    with path.open("wb") as handle:
        for entry in entries:
            if isinstance(entry, KeptDocument) and previous is not None:
                before = previous.documents[entry.position]
                if before == entry.document:
                    handle.write(lines[entry.position])
                    continue
                when = before.indexed_at
            else:
                when = indexed_at
            handle.write(_document_line(replace(entry.document, indexed_at=when)))


def _document_line(doc: Document) -> bytes:
    record = {name: getattr(doc, name) for name in _DOCUMENT_FIELDS}
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
