"""The FAISS index over passage vectors: which kind for which size, and how to open it fast.

A flat index reads every vector per query: linear in the corpus. Its codes are half-precision
floats (``IndexScalarQuantizer`` fp16): the scan is memory-bound, and halving the bytes made it
about twice as fast as ``IndexFlatIP`` (0.42 against 0.81 ms at 20,000 passages, 3.3 against
6.1 ms at 100,000) with recall@10 0.999 against exact search; the searcher re-scores every
candidate with the stored float32 vectors anyway. Flat is kept up to ``HNSW_FROM`` passages,
where its scan costs ~0.8 ms, what float32 cost at 20,000.
Past that an HNSW graph answers in a fraction of a millisecond with
recall@10 >= 0.98 against exact search at the parameters below (``benchmarks/scale.py``: 100k
text-like vectors, efSearch 128 gave 0.968, 256 gave 0.993 at 0.34 ms). Building it costs ~0.3 ms
per passage on two cores, small beside encoding the passage. Memory per million 384-dimensional
passages: flat fp16 0.72 GiB, HNSW32 1.68 GiB (float32 vectors plus the neighbour lists).

An HNSW graph is not rebuilt for every generation: an incremental build extends the previous
generation's graph with the new passages only (``extend_hnsw``), and a ``faiss_rows.npy`` beside
it maps each graph label to its passage row in the new generation, or -1 for a passage that is
gone (a removed or edited document: HNSW cannot delete). Searches skip those labels. Once they
are more than ``DEAD_LABELS_LIMIT`` of the graph, the next build rebuilds it whole.

The vector files themselves (``.npy``, memory-mapped by readers) are written here too, with the
rows an incremental build keeps copied file to file from the previous generation.
"""

import errno
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import faiss
import numpy as np

HNSW_FROM = 30_000
"""Passage count from which a generation gets an HNSW index instead of a flat one."""
DEAD_LABELS_LIMIT = 0.1
"""Share of an HNSW graph's labels pointing at gone passages past which it is rebuilt."""
ROWS_FILE = "faiss_rows.npy"
"""Label -> passage row of an extended graph; absent when label i is passage row i."""
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 256

# copy_file_range cannot serve these files (other file systems, old kernels, some
# containers): write_vectors then reads and writes instead.
_NO_COPY_FILE_RANGE = frozenset({errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL})


def uses_hnsw(passages: int) -> bool:
    """Whether a generation of this many passages gets an HNSW graph (else a flat index)."""
    return passages >= HNSW_FROM


def build_passage_index(
    vectors: np.ndarray, hnsw_from: int | None = None
) -> tuple[faiss.Index, str]:
    """An inner-product index over unit ``vectors`` and its description for the manifest."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dimension = int(vectors.shape[1])
    index: faiss.Index
    if not (uses_hnsw(len(vectors)) if hnsw_from is None else len(vectors) >= hnsw_from):
        index = faiss.IndexScalarQuantizer(
            dimension, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        )
        description = "IndexScalarQuantizer(fp16)"
    else:
        hnsw = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        hnsw.hnsw.efSearch = HNSW_EF_SEARCH
        index = hnsw
        description = (
            f"IndexHNSWFlat(M={HNSW_M},efConstruction={HNSW_EF_CONSTRUCTION},"
            f"efSearch={HNSW_EF_SEARCH})"
        )
    if len(vectors):
        index.add(vectors)
    return index, description


def extend_hnsw(
    served: faiss.Index,
    file: Path,
    previous_rows: np.ndarray | None,
    reused: "ReusedVectors",
    vectors: np.ndarray,
) -> tuple[faiss.Index, np.ndarray] | None:
    """The previous generation's HNSW graph (``served``, open, and its ``file``; its labels'
    rows ``previous_rows``, None meaning label = row) with the new generation's fresh passages
    added, and each label's row in the new generation (-1: gone). ``reused.source`` gives each
    new row's previous row (-1: fresh; its vector is row ``i`` of ``vectors``). None when the
    previous index is not a graph or too many of its labels would point at nothing: rebuild it
    then (decided before the graph is read, which at a million passages is gigabytes)."""
    if not isinstance(faiss.downcast_index(served), faiss.IndexHNSWFlat):
        return None
    labels = np.arange(served.ntotal) if previous_rows is None else np.asarray(previous_rows)
    source = reused.source
    kept = np.flatnonzero(source >= 0)
    new_row_of = np.full(int(source.max(initial=-1)) + 1, -1, dtype=np.int64)
    new_row_of[source[kept]] = kept
    alive = (labels >= 0) & (labels < len(new_row_of))
    rows = np.full(len(labels), -1, dtype=np.int64)
    rows[alive] = new_row_of[labels[alive]]
    fresh = np.flatnonzero(source < 0)
    rows = np.concatenate([rows, fresh])
    if (rows < 0).sum() > DEAD_LABELS_LIMIT * len(rows):
        return None
    # A copy read from the file, not ``served``: requests may be searching that one right now.
    index = faiss.read_index(str(file))
    if len(fresh):
        index.add(np.ascontiguousarray(vectors[fresh], dtype=np.float32))
    return index, rows


def read_passage_index(path: Path) -> faiss.Index:
    """Open a written index, memory-mapped where FAISS can (flat codes), so a large index is
    ready at once and its pages are shared between processes."""
    try:
        return faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
    except RuntimeError:
        return faiss.read_index(str(path))


def set_faiss_threads(threads: int) -> None:
    """FAISS's OpenMP pool size for work started from the calling thread (OpenMP keeps the
    setting per thread): building a graph with every core is batch work worth it."""
    faiss.omp_set_num_threads(threads)


def search_one(index: faiss.Index, vector: np.ndarray, count: int) -> np.ndarray:
    """Labels of the ``count`` nearest neighbours of one vector (-1 where there are fewer).

    Searched with one OpenMP thread, set here because OpenMP keeps the setting per calling
    thread: a request thread that never set it searched with one OpenMP thread per core, though
    one vector's search runs on one of them, and the idle one then spun after every search: 60%
    of a core burnt in a service answering one query at a time (no latency change measured, on a
    machine with a core to spare).
    """
    faiss.omp_set_num_threads(1)
    _, labels = index.search(vector.reshape(1, -1), count)
    return labels[0]


@dataclass(frozen=True, slots=True)
class ReusedVectors:
    """A new generation's vectors in terms of the previous generation's: row ``i`` is the
    previous row ``source[i]`` where that is >= 0, else the next row of ``fresh``."""

    source: np.ndarray
    fresh: np.ndarray


def mapped(path: Path) -> np.ndarray:
    """A stored array memory-mapped, as a plain ndarray: a request indexes these dozens of
    times, and ``np.memmap``'s Python-level ``__getitem__`` made that a fifth of a search's CPU
    time."""
    return np.load(path, mmap_mode="r").view(np.ndarray)


def write_vectors(path: Path, vectors: np.ndarray | ReusedVectors, previous: Path | None) -> None:
    """Write ``vectors`` as a float32 ``.npy``; reused rows are copied from ``previous`` (the
    same array of the previous generation) by byte range inside the kernel.

    An incremental build keeps nearly every row: copying them file to file
    (``copy_file_range``) instead of reading them into an array first saves touching ~150 MB
    of memory-mapped pages per 5,000 articles, most of the cost of writing the vectors.
    """
    if isinstance(vectors, np.ndarray):
        np.save(path, np.ascontiguousarray(vectors, dtype=np.float32))
        return
    source = np.asarray(vectors.source, dtype=np.int64)
    fresh = np.ascontiguousarray(vectors.fresh, dtype=np.float32)
    if int((source < 0).sum()) != len(fresh):
        raise ValueError("one fresh vector per row without a source is required")
    if previous is None:
        raise ValueError("reused vectors need the previous generation's file")
    with previous.open("rb") as old, path.open("wb") as new:
        offset, rows, dimension = _float_rows_header(old)
        if len(fresh) and fresh.shape[1] != dimension:
            raise ValueError(f"fresh vectors have {fresh.shape[1]} dimensions, not {dimension}")
        if int(source.max(initial=-1)) >= rows:
            raise ValueError(f"{previous} has {rows} rows, fewer than the sources name")
        np.lib.format.write_array_header_1_0(
            new, {"descr": "<f4", "fortran_order": False, "shape": (len(source), dimension)}
        )
        row_bytes = 4 * dimension
        taken = 0
        for start, end in source_runs(source):
            if source[start] < 0:
                new.write(fresh[taken : taken + end - start].tobytes())
                taken += end - start
            else:
                new.flush()  # buffered bytes go first: the copy appends at the file position
                _copy_range(
                    old.fileno(),
                    new.fileno(),
                    offset + int(source[start]) * row_bytes,
                    (end - start) * row_bytes,
                )


def _float_rows_header(handle: BinaryIO) -> tuple[int, int, int]:
    """Data offset, rows and dimension of an ``.npy`` of float32 rows (C order)."""
    version = np.lib.format.read_magic(handle)
    read = (
        np.lib.format.read_array_header_1_0
        if version == (1, 0)
        else np.lib.format.read_array_header_2_0
    )
    shape, fortran_order, dtype = read(handle)
    if dtype != np.dtype("<f4") or fortran_order or len(shape) != 2:
        raise ValueError(f"{handle.name} does not hold float32 rows")
    return handle.tell(), int(shape[0]), int(shape[1])


def source_runs(source: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` stretches of rows that are all new (``source < 0``), or all taken from
    consecutive source rows: each becomes one write or one copy of a whole block."""
    if not len(source):
        return []
    reused = source >= 0
    breaks = (reused[1:] != reused[:-1]) | (reused[1:] & (source[1:] != source[:-1] + 1))
    starts = np.concatenate(([0], np.flatnonzero(breaks) + 1))
    ends = np.concatenate((starts[1:], [len(source)]))
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _copy_range(src: int, dst: int, src_offset: int, count: int) -> None:
    """Append ``count`` bytes of ``src`` from ``src_offset`` to ``dst`` at its position:
    ``copy_file_range`` where the system has it, else read and write."""
    while count:
        try:
            done = os.copy_file_range(src, dst, count, src_offset)
        except (AttributeError, OSError) as exc:
            if isinstance(exc, OSError) and exc.errno not in _NO_COPY_FILE_RANGE:
                raise
            done = os.write(dst, os.pread(src, min(count, 1 << 24), src_offset))
        if done == 0:
            raise ValueError("the previous vectors file ends early")
        src_offset += done
        count -= done
