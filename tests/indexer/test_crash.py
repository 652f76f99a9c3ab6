"""kill -9 an indexer mid-build: the live generation must stay live and readable, a service
keeps answering from it, and the next build recovers without manual steps."""

import queue
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from indexer import IndexSettings, IndexStore, build_index
from indexer.sentences import sentence_spans
from indexer.store import TMP_PREFIX
from service.settings import ServiceSettings
from tests.conftest import REPO, SEED_ID, SEEDS, RunningServer, free_port, serve

pytestmark = pytest.mark.slow

ARTICLES = 100
"""Enough distinct text for the build to take a second or two: time to kill it mid-way."""


def write_articles(folder: Path, count: int) -> None:
    """Articles made of the seed's sentences, shuffled: real text, distinct content hashes, and
    every sentence made distinct (a build embeds repeated sentences once, in no time)."""
    text = (SEEDS / SEED_ID).read_text(encoding="utf-8")
    pool = [text[s:e].rstrip(".") for s, e in sentence_spans(text) if e - s > 40]
    rng = random.Random(4)
    for i in range(count):
        body = " ".join(f"{s}, dispatch {i}-{j}." for j, s in enumerate(rng.sample(pool, 6)))
        (folder / f"generated-{i:03d}.txt").write_text(f"Article {i}\n\n{body}\n", "utf-8")


class Indexer:
    """``python -m indexer`` in a subprocess, its log lines collected as they come."""

    def __init__(self, sources: Path, index_dir: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "indexer", str(sources), "--index-dir", str(index_dir)],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)

    def wait_for_line(self, fragment: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if fragment in self.lines.get(timeout=0.1):
                    return
            except queue.Empty:
                assert self.process.poll() is None, "the indexer exited early"
        raise AssertionError(f"the indexer never logged {fragment!r}")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self._reader.join(timeout=10)
        assert self.process.stderr is not None
        self.process.stderr.close()


def during_model_loading(indexer: Indexer, store: IndexStore) -> None:
    # Imports and the model take ~1 s; the build itself could be done a second later.
    time.sleep(0.4)


def while_embedding(indexer: Indexer, store: IndexStore) -> None:
    indexer.wait_for_line("embedding")
    time.sleep(0.3)


def while_writing(indexer: Indexer, store: IndexStore) -> None:
    deadline = time.monotonic() + 180
    while indexer.process.poll() is None and time.monotonic() < deadline:
        if any(p.name.startswith(TMP_PREFIX) for p in store.generations_dir.iterdir()):
            return
        time.sleep(0.001)


@pytest.fixture
def served_index(tmp_path: Path, real_embedder) -> Iterator[tuple[RunningServer, Path]]:
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    settings = ServiceSettings(index_dir=tmp_path / "index", sources=[sources], port=free_port())
    build_index([sources], settings, real_embedder, progress=False)
    write_articles(sources, ARTICLES)
    for running in serve(settings, real_embedder):
        yield running, sources


@pytest.mark.parametrize("kill_point", [during_model_loading, while_embedding, while_writing])
def test_killed_build_leaves_the_live_generation_serving_and_the_next_build_recovers(
    served_index: tuple[RunningServer, Path],
    real_embedder,
    kill_point: Callable[[Indexer, IndexStore], None],
) -> None:
    server, sources = served_index
    store = IndexStore(server.settings.index_dir)
    before = store.current_generation()

    indexer = Indexer(sources, store.index_dir)
    kill_point(indexer, store)
    indexer.kill()

    # Killed while writing, the new generation may just have become complete and live: either
    # way the live one is whole. Killed earlier, it must be the old one.
    live = store.current_generation()
    if kill_point is not while_writing:
        assert live == before
    snapshot = store.open(real_embedder.name, real_embedder.dimension)
    assert snapshot.generation == live and snapshot.faiss_index.ntotal > 0
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        time.sleep(server.settings.refresh_interval_seconds * 2)
        assert client.get("/ready").json()["generation"] == live
        answer = client.get("/search", params={"q": "what are the deal's phases?"})
        assert answer.status_code == 200 and answer.json()["results"]

        # The kernel dropped the dead indexer's lock: the next build need not wait.
        settings = IndexSettings(
            index_dir=store.index_dir, lock_timeout_seconds=0, generation_grace_seconds=0
        )
        report = build_index([sources], settings, real_embedder, progress=False)
        assert report.manifest.document_count == ARTICLES + 1
        assert [p.name for p in store.generations_dir.iterdir()] == [report.manifest.generation]
        deadline = time.monotonic() + 3
        while client.get("/ready").json()["generation"] != report.manifest.generation:
            assert time.monotonic() < deadline
            time.sleep(0.05)
