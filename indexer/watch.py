"""Watch mode: rebuild once the source folders have been quiet for a moment.

Editors save in bursts (a temporary file renamed over the original, a backup, several quick
writes); watchfiles groups the events until nothing happened for ``watch_debounce_seconds``,
and temporary, hidden and backup files are ignored, so one save means one rebuild. A spurious
rebuild costs little anyway: the build is incremental and writes nothing when no document
changed.
"""

import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import watchfiles

from indexer.errors import IndexerError
from indexer.housekeeping import open_lock_file, try_lock

log = logging.getLogger(__name__)

WATCH_LOCK_FILE = ".watch.lock"

# Editor and downloader droppings (vim's swap files and its "4913" probe, emacs's #autosave#
# and .#locks, partial downloads) and anything hidden.
_IGNORED_SUFFIXES = (".swp", ".swx", ".swo", ".tmp", ".part", ".crdownload", "~")
_IGNORED_NAMES = frozenset({"4913"})


class SourceFilter(watchfiles.DefaultFilter):
    """watchfiles' default filter (.git, __pycache__, ...) plus temporary and hidden files, and
    nothing inside the index folder (watching ``.`` must not react to our own writes)."""

    def __init__(self, index_dir: Path) -> None:
        super().__init__()
        self.index_dir = Path(index_dir).resolve()

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        file = Path(path)
        name = file.name
        if name.startswith((".", "#")) or name.endswith(_IGNORED_SUFFIXES):
            return False
        if name in _IGNORED_NAMES or file.resolve().is_relative_to(self.index_dir):
            return False
        return bool(super().__call__(change, path))


def watch_sources(
    paths: Iterable[Path],
    index_dir: Path,
    debounce_seconds: float,
    rebuild: Callable[[], object],
    stop_event: threading.Event | None = None,
) -> None:
    """Call ``rebuild()`` after each settled burst of changes under ``paths``, until stopped.

    A failing rebuild, whatever the failure (a full disk is an ``OSError``, a damaged file a
    ``BadZipFile``), is logged and watching goes on: the previous generation stays live and
    the next change, or the next quiet period after a failure, tries again.
    """
    folders = [Path(p) for p in paths if Path(p).exists()]
    if not folders:
        raise IndexerError(f"nothing to watch: none of {[str(p) for p in paths]} exists")
    quiet_ms = int(debounce_seconds * 1000)
    log.info("watching %s for changes", ", ".join(map(str, folders)))
    for changes in watchfiles.watch(
        *folders,
        watch_filter=SourceFilter(index_dir),
        step=quiet_ms,
        # A file rewritten non-stop still gets indexed every ten quiet periods.
        debounce=quiet_ms * 10,
        stop_event=stop_event,
        raise_interrupt=False,
    ):
        log.info("%d change(s), e.g. %s: reindexing", len(changes), sorted(changes)[0][1])
        try:
            rebuild()
        except IndexerError as exc:
            log.error("reindex failed, the previous generation stays live: %s", exc)
        except Exception:  # a watcher that dies never indexes again
            log.exception("reindex failed unexpectedly, the previous generation stays live")


class WatchClaim:
    """The right to watch the sources of one index, held by one process at a time.

    Every worker of a multi-process service starts with ``--watch``; the first to claim the
    right watches and reindexes for all of them (the others serve what it builds, which they
    pick up from ``CURRENT``), instead of each one rebuilding the same change. The claim is an
    ``flock``, so the kernel releases it when its holder dies.
    """

    def __init__(self, index_dir: Path) -> None:
        self.path = Path(index_dir) / WATCH_LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Claim it; False when another process (or another claim here) holds it."""
        fd = open_lock_file(self.path)
        if not try_lock(fd):
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor releases the flock
            self._fd = None
