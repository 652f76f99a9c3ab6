"""The FAISS index over passage vectors: which kind for which size, and how to open it fast.

Exact inner-product search (``IndexFlatIP``) reads every vector per query: linear in the corpus,
about a millisecond per 10,000 passages on one core, so past ~20,000 it costs more than encoding
the query. Past ``HNSW_FROM`` passages an HNSW graph answers in a fraction of a millisecond with
recall@10 >= 0.98 against exact search at the parameters below (``benchmarks/scale.py``: 100k
text-like vectors, efSearch 128 gave 0.968, 256 gave 0.993 at 0.34 ms). Building it costs ~0.3 ms
per passage on two cores, small beside encoding the passage. Memory per million 384-dimensional
passages: flat 1.43 GiB (the vectors), HNSW32 1.68 GiB (vectors plus the neighbour lists).
"""

from pathlib import Path

import faiss
import numpy as np

HNSW_FROM = 20_000
"""Passage count from which a generation gets an HNSW index instead of a flat one."""
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 256


def build_passage_index(vectors: np.ndarray, hnsw_from: int = HNSW_FROM) -> tuple[faiss.Index, str]:
    """An inner-product index over unit ``vectors`` and its description for the manifest."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dimension = int(vectors.shape[1])
    index: faiss.Index
    if len(vectors) < hnsw_from:
        index = faiss.IndexFlatIP(dimension)
        description = "IndexFlatIP"
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


def read_passage_index(path: Path) -> faiss.Index:
    """Open a written index, memory-mapped where FAISS can (flat codes), so a large index is
    ready at once and its pages are shared between processes."""
    try:
        return faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
    except RuntimeError:
        return faiss.read_index(str(path))


def set_faiss_threads(threads: int) -> None:
    """FAISS's OpenMP pool size. The service uses 1: requests already run in parallel threads,
    and a single-query search gains nothing from more."""
    faiss.omp_set_num_threads(threads)
