"""The service's in-process reindex, without a server."""

import shutil
import time
from pathlib import Path

import pytest

from indexer import IndexStore, build_index
from service.api.app import STATUS_OF
from service.engine.live import LiveIndex
from service.engine.reindex import Reindexer
from service.errors import ReindexFailed
from service.settings import ServiceSettings
from tests.conftest import SEEDS, FakeEmbedder, FullDiskEmbedder

ARTICLE = "Harbour news\n\nThe ferry to the island was cancelled. Storms are expected all week.\n"


def test_a_reindex_builds_on_the_served_generation_without_opening_it_again(
    tmp_path: Path, opened_generations: list[str]
) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    settings = ServiceSettings(index_dir=tmp_path / "index", sources=[sources])
    embedder = FakeEmbedder()
    build_index([sources], settings, embedder, progress=False)
    live = LiveIndex(IndexStore(settings.index_dir), embedder)
    live.refresh()
    served = live.snapshot()
    assert served is not None

    (sources / "ferry.txt").write_text(ARTICLE, encoding="utf-8")
    reindexer = Reindexer(settings, embedder, live)
    opened_generations.clear()
    try:
        report = reindexer.run()
    finally:
        reindexer.close()
    assert (report.added, report.unchanged, report.full) == (1, 1, False)
    # Only the new generation was opened (by the swap), never the served one a second time.
    assert opened_generations == [report.manifest.generation]
    assert live.snapshot().generation == report.manifest.generation  # type: ignore[union-attr]


def test_an_unforeseen_failure_is_a_reindex_failure_and_the_next_run_recovers(
    tmp_path: Path,
) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    settings = ServiceSettings(index_dir=tmp_path / "index", sources=[sources])
    embedder = FullDiskEmbedder()
    embedder.full = False
    build_index([sources], settings, embedder, progress=False)
    live = LiveIndex(IndexStore(settings.index_dir), embedder)
    live.refresh()
    before = live.snapshot().generation  # type: ignore[union-attr]
    (sources / "ferry.txt").write_text(ARTICLE, encoding="utf-8")
    embedder.full = True
    reindexer = Reindexer(settings, embedder, live)
    try:
        with pytest.raises(ReindexFailed, match=r"OSError.*No space left"):
            reindexer.run()
        assert live.snapshot().generation == before  # type: ignore[union-attr]
        embedder.full = False  # space is back
        assert reindexer.run().added == 1
    finally:
        reindexer.close()
    assert STATUS_OF[ReindexFailed] == 503


def test_in_watch_mode_a_failed_reindex_is_stale_until_a_retry_succeeds_by_itself(
    tmp_path: Path,
) -> None:
    """A disk that fills up and frees again: no restart, no new change to the sources."""
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    settings = ServiceSettings(
        index_dir=tmp_path / "index", sources=[sources], watch=True, reindex_retry_seconds=0.05
    )
    embedder = FullDiskEmbedder()
    embedder.full = False
    build_index([sources], settings, embedder, progress=False)
    live = LiveIndex(IndexStore(settings.index_dir), embedder)
    live.refresh()
    (sources / "ferry.txt").write_text(ARTICLE, encoding="utf-8")
    embedder.full = True
    reindexer = Reindexer(settings, embedder, live)
    try:
        with pytest.raises(ReindexFailed):
            reindexer.run()
        assert reindexer.status.stale and "No space left" in (reindexer.status.error or "")
        deadline = time.monotonic() + 5
        while reindexer.status.failures < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert reindexer.status.failures >= 3  # retried by itself, backing off
        first = reindexer.status.failing_since
        embedder.full = False  # space is back
        while reindexer.status.stale and time.monotonic() < deadline + 5:
            time.sleep(0.02)
        assert not reindexer.status.stale and first is not None
        assert live.snapshot().document("ferry.txt") is not None  # type: ignore[union-attr]
    finally:
        reindexer.close()
