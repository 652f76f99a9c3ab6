"""One writer at a time: the index folder's lock, seen from a second indexer."""

import threading
import time
from pathlib import Path

import pytest

from indexer import IndexSettings, IndexStore, build_index
from indexer.errors import IndexLocked
from indexer.housekeeping import IndexLock
from indexer.store import TMP_PREFIX
from tests.conftest import SEEDS, FakeEmbedder


def test_second_indexer_gives_up_with_a_clear_message(tmp_path: Path) -> None:
    settings = IndexSettings(index_dir=tmp_path, lock_timeout_seconds=0.3)
    with IndexLock(tmp_path, timeout=1), pytest.raises(IndexLocked, match=r"another indexer \(pid"):
        build_index([SEEDS], settings, FakeEmbedder(), progress=False)
    assert IndexStore(tmp_path).current_generation() is None


def test_second_indexer_waits_for_the_first_to_finish(tmp_path: Path) -> None:
    released = threading.Event()

    def hold() -> None:
        with IndexLock(tmp_path, timeout=1):
            time.sleep(0.5)
            released.set()

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.1)
    report = build_index([SEEDS], IndexSettings(index_dir=tmp_path), FakeEmbedder())
    assert released.is_set(), "the build must not have written while the lock was held"
    holder.join()
    assert IndexStore(tmp_path).current_generation() == report.manifest.generation


def test_builds_started_together_run_one_after_the_other(tmp_path: Path) -> None:
    settings = IndexSettings(index_dir=tmp_path / "index")
    reports = []
    errors: list[BaseException] = []

    def build(full: bool) -> None:
        try:
            reports.append(build_index([SEEDS], settings, FakeEmbedder(), full=full))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=build, args=(i % 2 == 0,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(reports) == 4
    store = IndexStore(settings.index_dir)
    live = store.open("fake-bow", 64)
    assert live.generation in {r.manifest.generation for r in reports}
    assert not [p for p in store.generations_dir.iterdir() if p.name.startswith(TMP_PREFIX)]
