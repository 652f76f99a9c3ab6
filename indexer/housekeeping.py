"""Sharing one index folder safely: the writers' lock, and removing what builds leave behind.

Only the holder of ``index_dir/.lock`` writes: it creates ``generations/.tmp-*`` folders,
renames them into place, moves ``CURRENT`` and deletes old generations. Readers (services)
never take the lock; they only follow ``CURRENT``, which is why an old generation is kept for
a grace period after it stopped being live instead of being deleted at once.

The lock is ``fcntl.flock`` on an open file: the kernel releases it when its holder exits,
``kill -9`` included, so there is never a stale lock to clean up by hand. flock locks belong
to open file descriptions, so two threads of one process exclude each other too.
"""

import fcntl
import logging
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from indexer.errors import IndexLocked
from indexer.store import TMP_PREFIX, IndexStore

log = logging.getLogger(__name__)

LOCK_FILE = ".lock"
_POLL_SECONDS = 0.1


class IndexLock:
    """Exclusive right to write ``index_dir``; waits up to ``timeout`` seconds for it."""

    def __init__(self, index_dir: Path, timeout: float) -> None:
        self.path = Path(index_dir) / LOCK_FILE
        self.timeout = timeout
        self._fd: int | None = None

    def __enter__(self) -> "IndexLock":
        fd = open_lock_file(self.path)
        deadline = time.monotonic() + self.timeout
        announced = False
        while not try_lock(fd):
            holder = _read_holder(fd)
            if time.monotonic() >= deadline:
                os.close(fd)
                raise IndexLocked(
                    f"another indexer ({holder}) is writing {self.path.parent} and did not "
                    f"finish within {self.timeout:g}s (NEWSQA_LOCK_TIMEOUT_SECONDS)"
                )
            if not announced:
                log.warning("waiting for another indexer (%s) to finish", holder)
                announced = True
            time.sleep(_POLL_SECONDS)
        # The holder's pid is only for the waiting side's message; the lock is the flock.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def open_lock_file(path: Path) -> int:
    """A descriptor of the lock file ``path``, created (with its folder) when missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


def try_lock(fd: int) -> bool:
    """Take the exclusive ``flock`` on ``fd`` if nobody holds it; never waits."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _read_holder(fd: int) -> str:
    text = os.pread(fd, 64, 0).decode(errors="replace").strip()
    return text or "pid unknown"


def remove_crashed_builds(store: IndexStore) -> list[str]:
    """Delete ``.tmp-*`` folders: only a lock holder makes them, so any found were orphaned."""
    if not store.generations_dir.is_dir():
        return []
    removed = []
    for folder in store.generations_dir.iterdir():
        if folder.name.startswith(TMP_PREFIX):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    if removed:
        log.info("removed %d unfinished build(s) left by a crash: %s", len(removed), removed)
    return removed


def remove_retired_generations(store: IndexStore, grace_seconds: float) -> list[str]:
    """Delete generations that stopped being live more than ``grace_seconds`` ago.

    A generation retires when the next one is built, so its retirement time is the timestamp
    in its successor's name. The live generation is never deleted; nor is anything whose name
    is not a generation name.
    """
    if not store.generations_dir.is_dir():
        return []
    live = store.current_generation()
    dated = sorted(
        (name, when)
        for name, when in (
            (p.name, _built_at(p.name))
            for p in store.generations_dir.iterdir()
            if p.is_dir() and not p.name.startswith(TMP_PREFIX)
        )
        if when is not None
    )
    now = datetime.now(UTC)
    removed = []
    for position, (name, built) in enumerate(dated):
        retired = dated[position + 1][1] if position + 1 < len(dated) else built
        if name != live and (now - retired).total_seconds() > grace_seconds:
            shutil.rmtree(store.generations_dir / name, ignore_errors=True)
            removed.append(name)
    if removed:
        log.info("removed %d retired generation(s): %s", len(removed), removed)
    return removed


def _built_at(name: str) -> datetime | None:
    try:
        return datetime.strptime(name[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
