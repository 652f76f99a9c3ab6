"""Shared fixtures: a fake embedder for fast unit tests, and one real model and one real
server per test session for the integration tests."""

import hashlib
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from indexer import (
    Embedder,
    IndexSettings,
    IndexSnapshot,
    IndexStore,
    build_index,
    make_embedder,
)
from indexer.embedding import BaseEmbedder, TokenSums
from service.settings import ServiceSettings
from service.testing import free_port, running_server

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
SEED_ID = "000_8cbc50e82d9fbfeb.txt"
SHARED_DATA = REPO.parent / "shared" / "data"

# One ONNX export of the model for the whole suite, subprocesses (indexer, stdio MCP) included.
os.environ.setdefault("NEWSQA_ONNX_CACHE_DIR", str(REPO / ".cache" / "onnx"))


class FakeEmbedder(BaseEmbedder):
    """Bag-of-words hashing embedder: deterministic, instant, and texts sharing words are
    similar, which is enough to test plumbing without loading a transformer."""

    name = "fake-bow"
    dimension = 64

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode_passages([text])[0]

    def encode_token_sums(self, texts: Sequence[str], progress: bool = False) -> TokenSums:
        """Each word is a "token" with a fixed random embedding."""
        sums = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            words = re.findall(r"\w+", text.lower())
            for word in words:
                seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "little")
                sums[row] += np.random.default_rng(seed).standard_normal(self.dimension)
            if not words:
                sums[row] = np.eye(self.dimension)[0]
        return TokenSums(sums)


class FullDiskEmbedder(FakeEmbedder):
    """Fails the way a full disk does, while ``full`` is set."""

    full = False

    def encode_token_sums(self, texts: Sequence[str], progress: bool = False) -> TokenSums:
        if self.full:
            raise OSError(28, "No space left on device")
        return super().encode_token_sums(texts, progress)


ADMIN_KEY = "test-admin-key"
ADMIN_AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}


def serve_sources(tmp_path: Path, embedder: Embedder | None = None) -> Iterator["RunningServer"]:
    """A real server (fake embedder unless given) over a built copy of seeds/ in
    ``tmp_path/sources``, which it may reindex, with the admin key ``ADMIN_KEY``."""
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    embedder = embedder or FakeEmbedder()
    settings = ServiceSettings(
        index_dir=tmp_path / "index", sources=[sources], port=free_port(), api_key=ADMIN_KEY
    )
    build_index([sources], settings, embedder, progress=False)
    yield from serve(settings, embedder)


@pytest.fixture
def keyed_server(tmp_path: Path) -> Iterator["RunningServer"]:
    yield from serve_sources(tmp_path)


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def seed_snapshot(tmp_path: Path, fake_embedder: FakeEmbedder) -> IndexSnapshot:
    """The seed articles indexed with the fake embedder."""
    build_index([SEEDS], IndexSettings(index_dir=tmp_path), fake_embedder, progress=False)
    return IndexStore(tmp_path).open(fake_embedder.name, fake_embedder.dimension)


@pytest.fixture
def opened_generations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The generation of every ``IndexStore.open`` from now on, in order."""
    opened: list[str] = []
    real_open = IndexStore.open

    def recording_open(store: IndexStore, *args, **kwargs):
        snapshot = real_open(store, *args, **kwargs)
        opened.append(snapshot.generation)
        return snapshot

    monkeypatch.setattr(IndexStore, "open", recording_open)
    return opened


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    """The bundled all-MiniLM-L6-v2 with the default backend, loaded once for the session."""
    return make_embedder(IndexSettings())


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Path:
    index_dir = tmp_path_factory.mktemp("seed-index")
    build_index([SEEDS], IndexSettings(index_dir=index_dir), real_embedder, progress=False)
    return index_dir


@dataclass
class RunningServer:
    base_url: str
    settings: ServiceSettings


def serve(settings: ServiceSettings, embedder) -> Iterator[RunningServer]:
    """Run a real uvicorn server on 127.0.0.1 in a thread until the generator is closed."""
    with running_server(settings, embedder) as base_url:
        yield RunningServer(base_url, settings)


@pytest.fixture(scope="session")
def seed_server(seed_index: Path, real_embedder) -> Iterator[RunningServer]:
    settings = ServiceSettings(index_dir=seed_index, port=free_port())
    yield from serve(settings, real_embedder)


@pytest.fixture(scope="session")
def fake_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A real uvicorn server over seeds/ indexed with the fake embedder: the HTTP contract
    (parameters, errors, shapes) in the fast run, without loading the model."""
    index_dir = tmp_path_factory.mktemp("fake-index")
    embedder = FakeEmbedder()
    build_index([SEEDS], IndexSettings(index_dir=index_dir), embedder, progress=False)
    yield from serve(ServiceSettings(index_dir=index_dir, port=free_port()), embedder)
