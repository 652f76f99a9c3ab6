"""Watch mode: one settled burst of editor activity means one rebuild."""

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from watchfiles import Change

from indexer.watch import SourceFilter, WatchClaim, watch_sources

DEBOUNCE = 0.5


class Watching:
    def __init__(self) -> None:
        self.rebuilds = 0

    def rebuild(self) -> None:
        self.rebuilds += 1

    def wait_for(self, count: int, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while self.rebuilds < count and time.monotonic() < deadline:
            time.sleep(0.05)
        # Let a (wrong) extra rebuild show up before the caller counts.
        time.sleep(DEBOUNCE * 3)


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[Path, Watching]]:
    folder = tmp_path / "articles"
    folder.mkdir()
    watching = Watching()
    stop = threading.Event()
    thread = threading.Thread(
        target=watch_sources, args=([folder], tmp_path / "index", DEBOUNCE, watching.rebuild, stop)
    )
    thread.start()
    time.sleep(0.3)  # let the watcher start
    yield folder, watching
    stop.set()
    thread.join(timeout=10)


def test_editor_save_patterns_trigger_one_rebuild(watched: tuple[Path, Watching]) -> None:
    folder, watching = watched
    (folder / ".story.txt.swp").write_text("swap")
    temp = folder / "story.txt.tmp"
    temp.write_text("Title\n\nFirst draft.\n")
    temp.rename(folder / "story.txt")
    for word in ("second", "third", "fourth"):
        with (folder / "story.txt").open("a") as handle:
            handle.write(f"A {word} sentence.\n")
    (folder / "story.txt~").write_text("backup")
    watching.wait_for(1)
    assert watching.rebuilds == 1
    (folder / "story.txt").unlink()
    watching.wait_for(2)
    assert watching.rebuilds == 2


def test_hidden_temporary_and_index_files_are_ignored(tmp_path: Path) -> None:
    accept = SourceFilter(tmp_path / "index")
    for ignored in (".hidden.txt", "draft.txt.swp", "a.txt~", "#a.txt#", "4913", "x.part"):
        assert not accept(Change.added, str(tmp_path / ignored)), ignored
    assert not accept(Change.added, str(tmp_path / "index" / "generations" / "a.npy"))
    assert accept(Change.modified, str(tmp_path / "article.md"))


def test_one_claim_to_watch_an_index_at_a_time(tmp_path: Path) -> None:
    first, second = WatchClaim(tmp_path / "index"), WatchClaim(tmp_path / "index")
    assert first.acquire()
    assert not second.acquire()  # what a second worker of the same service sees
    assert WatchClaim(tmp_path / "other-index").acquire()
    first.release()
    assert second.acquire()  # released (as when its holder dies), another process takes over
    second.release()


def test_a_rebuild_that_fails_unexpectedly_does_not_end_watching(tmp_path: Path) -> None:
    """A full disk is an OSError, not an IndexerError: the watcher once died of it for good."""
    folder = tmp_path / "articles"
    folder.mkdir()
    attempts: list[int] = []

    def rebuild() -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError(28, "No space left on device")

    stop = threading.Event()
    thread = threading.Thread(
        target=watch_sources, args=([folder], tmp_path / "index", DEBOUNCE, rebuild, stop)
    )
    thread.start()
    time.sleep(0.3)
    try:
        (folder / "a.txt").write_text("Title\n\nOne.\n")
        deadline = time.monotonic() + 10
        while not attempts and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(DEBOUNCE * 2)
        assert thread.is_alive()
        (folder / "b.txt").write_text("Title\n\nTwo.\n")
        deadline = time.monotonic() + 10
        while len(attempts) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(attempts) == 2
    finally:
        stop.set()
        thread.join(timeout=10)
