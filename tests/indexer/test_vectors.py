"""The passage index: flat below the size threshold, HNSW above it, and both read back."""

import errno
import os
from pathlib import Path

import faiss
import numpy as np
import pytest

from indexer.vectors import ReusedVectors, build_passage_index, read_passage_index, write_vectors


def unit_vectors(count: int, dimension: int = 32, seed: int = 7) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_small_collections_get_a_flat_index_of_half_precision_codes() -> None:
    vectors = unit_vectors(500)
    index, description = build_passage_index(vectors, hnsw_from=1000)
    assert description == "IndexScalarQuantizer(fp16)"
    assert index.ntotal == 500
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    queries = unit_vectors(50, seed=8)
    scores, ids = index.search(queries, 10)
    expected_scores, expected_ids = exact.search(queries, 10)
    assert (ids == expected_ids).mean() >= 0.99
    np.testing.assert_allclose(scores, expected_scores, atol=1e-3)


def test_large_collections_get_hnsw_described_with_its_parameters(tmp_path: Path) -> None:
    vectors = unit_vectors(2000)
    index, description = build_passage_index(vectors, hnsw_from=1000)
    assert description.startswith("IndexHNSWFlat(M=")
    faiss.write_index(index, str(tmp_path / "passages.faiss"))
    reopened = read_passage_index(tmp_path / "passages.faiss")
    _, found = reopened.search(vectors[:50], 1)
    # each vector is its own nearest neighbour under inner product
    assert (found[:, 0] == np.arange(50)).mean() >= 0.98
    assert "efSearch=" in description
    assert faiss.downcast_index(reopened).hnsw.efSearch == int(
        description.split("efSearch=")[1][:-1]
    )


def test_a_memory_mapped_flat_index_answers_like_the_built_one(tmp_path: Path) -> None:
    vectors = unit_vectors(300)
    index, _ = build_passage_index(vectors)
    faiss.write_index(index, str(tmp_path / "passages.faiss"))
    scores, ids = read_passage_index(tmp_path / "passages.faiss").search(vectors[:5], 3)
    expected_scores, expected_ids = index.search(vectors[:5], 3)
    np.testing.assert_array_equal(ids, expected_ids)
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-6)


@pytest.fixture(params=["copy_file_range", "read and write"])
def copying(request, monkeypatch) -> str:
    """Both ways of copying reused rows: in the kernel, and the fallback where it refuses."""
    if request.param == "read and write":

        def refuse(*args: object) -> int:
            raise OSError(errno.EXDEV, "cross-device")

        monkeypatch.setattr(os, "copy_file_range", refuse)
    return request.param


def test_reused_rows_are_copied_from_the_previous_file_and_fresh_ones_written(
    tmp_path: Path, copying: str
) -> None:
    previous = unit_vectors(50, dimension=8)
    np.save(tmp_path / "old.npy", previous)
    fresh = unit_vectors(3, dimension=8) * -1
    source = np.array([-1, 3, 4, 5, -1, 10, 11, 40, -1, 0, 1])
    write_vectors(tmp_path / "new.npy", ReusedVectors(source, fresh), tmp_path / "old.npy")
    expected = np.concatenate(
        [fresh[:1], previous[3:6], fresh[1:2], previous[[10, 11, 40]], fresh[2:], previous[:2]]
    )
    written = np.load(tmp_path / "new.npy", mmap_mode="r")
    assert written.dtype == np.float32 and np.array_equal(written, expected)


def test_reused_vectors_that_do_not_add_up_are_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "old.npy", unit_vectors(5, dimension=8))
    fresh = unit_vectors(1, dimension=8)
    for source in (np.array([0, -1, -1]), np.array([0, 5, -1])):
        with pytest.raises(ValueError):
            write_vectors(tmp_path / "new.npy", ReusedVectors(source, fresh), tmp_path / "old.npy")
