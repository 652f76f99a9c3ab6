"""The passage index: flat below the size threshold, HNSW above it, and both read back."""

from pathlib import Path

import faiss
import numpy as np

from indexer.vectors import build_passage_index, read_passage_index


def unit_vectors(count: int, dimension: int = 32) -> np.ndarray:
    vectors = np.random.default_rng(7).standard_normal((count, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_small_collections_get_an_exact_flat_index() -> None:
    index, description = build_passage_index(unit_vectors(100), hnsw_from=1000)
    assert description == "IndexFlatIP"
    assert index.ntotal == 100


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
