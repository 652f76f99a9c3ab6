"""A damaged generation is refused when it is opened, whichever of its files was damaged."""

import re
from pathlib import Path

import httpx
import pytest

from indexer import IndexSettings, IndexStore, build_index
from indexer.errors import IndexCorrupt
from indexer.snapshot import GENERATIONS_DIR
from service.settings import ServiceSettings
from tests.conftest import SEEDS, FakeEmbedder, free_port, serve


@pytest.fixture
def built(tmp_path: Path) -> tuple[IndexStore, Path]:
    build_index([SEEDS], IndexSettings(index_dir=tmp_path), FakeEmbedder(), progress=False)
    store = IndexStore(tmp_path)
    generation = store.current_generation()
    assert generation is not None
    return store, tmp_path / GENERATIONS_DIR / generation


def _open(store: IndexStore):
    embedder = FakeEmbedder()
    return store.open(embedder.name, embedder.dimension)


def test_every_file_is_recorded_and_a_sound_generation_opens(built) -> None:
    store, folder = built
    recorded = set(store.read_manifest().files)
    on_disk = {f.relative_to(folder).as_posix() for f in folder.rglob("*") if f.is_file()} - {
        "manifest.json"
    }
    assert recorded == on_disk and "passage_vectors.npy" in recorded
    assert _open(store).manifest.document_count == 1


def test_a_truncated_file_is_refused_by_its_size(built) -> None:
    store, folder = built
    vectors = folder / "passage_vectors.npy"
    vectors.write_bytes(vectors.read_bytes()[:-100])
    with pytest.raises(IndexCorrupt, match=r"passage_vectors\.npy has \d+ bytes"):
        _open(store)


@pytest.mark.parametrize("damage", ["flip", "delete"])
def test_any_damaged_file_is_refused(built, damage: str) -> None:
    store, folder = built
    for name in store.read_manifest().files:
        file = folder / name
        original = file.read_bytes()
        if damage == "delete":
            file.unlink()
        else:  # same size, one byte changed: only the checksum tells
            middle = len(original) // 2
            file.write_bytes(
                original[:middle] + bytes([original[middle] ^ 0xFF]) + original[middle + 1 :]
            )
        with pytest.raises(IndexCorrupt, match=re.escape(name)):
            _open(store)
        file.write_bytes(original)
    _open(store)


def test_a_service_starting_on_a_damaged_generation_is_not_ready_and_says_why(built) -> None:
    store, folder = built
    vectors = folder / "sentence_vectors.npy"
    vectors.write_bytes(vectors.read_bytes()[:-8])
    settings = ServiceSettings(index_dir=store.index_dir, port=free_port())
    for running in serve(settings, FakeEmbedder()):
        ready = httpx.get(f"{running.base_url}/ready")
        assert ready.status_code == 503
        assert "sentence_vectors.npy has" in ready.json()["detail"]
        assert httpx.get(f"{running.base_url}/search", params={"q": "deal"}).status_code == 503
