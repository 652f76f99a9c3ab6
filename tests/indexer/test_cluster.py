"""Indexing on a real local Ray cluster (``--ray local``): the same generation as a single-node
build, vectors included, and incremental builds send only what changed."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from indexer import IndexSettings, IndexStore, build_index, make_embedder
from indexer.errors import ClusterUnavailable
from tests.conftest import SEEDS

pytestmark = pytest.mark.slow

ARTICLES = {
    f"extra-{i}.txt": f"Harbour bulletin {i}\n\n"
    + " ".join(
        f"The ferry number {i} left the pier at {h} o'clock with {h * i} passengers."
        for h in range(1, 9)
    )
    for i in range(1, 30)
}


@pytest.fixture(scope="module")
def ray_embedder():
    ray = pytest.importorskip("ray")
    from indexer.embedding.cluster import RayEmbedder

    settings = IndexSettings()
    embedder = RayEmbedder(settings, "local", make_embedder(settings))
    yield embedder
    ray.shutdown()


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("127.0.0.1:1", "cannot reach the Ray cluster"),
        ("no-such-host.invalid:6379", "cannot reach the Ray cluster"),
        ("bogus", "not 'local', 'auto' or a cluster address"),
    ],
)
def test_an_address_nothing_answers_at_is_refused_in_seconds(address: str, says: str) -> None:
    """Ray itself would retry for minutes."""
    from indexer.embedding.cluster import _check_reachable

    with pytest.raises(ClusterUnavailable, match=says):
        _check_reachable(address, timeout=2)


def _generation(index_dir: Path) -> Path:
    return index_dir / "generations" / IndexStore(index_dir).current_generation()  # type: ignore[operator]


def test_a_ray_build_equals_a_single_node_build(tmp_path: Path, ray_embedder) -> None:
    sources = tmp_path / "articles"
    shutil.copytree(SEEDS, sources)
    for name, text in ARTICLES.items():
        (sources / name).write_text(text, encoding="utf-8")
    on_ray = build_index([sources], IndexSettings(index_dir=tmp_path / "ray"), ray_embedder)
    alone = build_index(
        [sources], IndexSettings(index_dir=tmp_path / "one"), make_embedder(IndexSettings())
    )
    assert on_ray.embedded == alone.embedded > 64  # more than one batch went to the cluster
    ray_files, one_files = _generation(tmp_path / "ray"), _generation(tmp_path / "one")
    for name in ("passages.npy", "sentences.npy", "passage_vectors.npy", "sentence_vectors.npy"):
        assert np.array_equal(np.load(ray_files / name), np.load(one_files / name)), name
    assert on_ray.manifest.documents == alone.manifest.documents

    (sources / "extra-1.txt").write_text(
        ARTICLES["extra-1.txt"] + " It was late.", encoding="utf-8"
    )
    again = build_index([sources], IndexSettings(index_dir=tmp_path / "ray"), ray_embedder)
    assert (again.changed, again.unchanged) == (1, len(ARTICLES))
    assert again.embedded < 10  # only the changed article's new sentence and passage
