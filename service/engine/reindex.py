"""Reindexing inside the service: for ``--watch`` and ``POST /admin/reindex``.

Builds run one at a time on a single dedicated thread (concurrent admin requests and watcher
events queue up behind each other; the index folder's lock also keeps out a separate
``python -m indexer``). That thread lowers its own scheduling priority: on Linux the nice value
is per thread, and the threads PyTorch's OpenMP pool starts for it inherit it, so queries keep
most of the CPU while a build embeds. Python-level work (loading, chunking) still shares the
GIL with request handling; it is small next to embedding.
"""

import ctypes
import ctypes.util
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime

from indexer import BuildReport, Embedder, build_index
from indexer.errors import IndexerError
from indexer.watch import WatchClaim, watch_sources
from service.engine.live import LiveIndex
from service.engine.metrics import REINDEX_RUNS, REINDEX_SECONDS, timed
from service.errors import ReindexFailed
from service.schemas import ReindexResponse
from service.settings import ServiceSettings

log = logging.getLogger(__name__)

REINDEX_NICENESS = 10
# A failed reindex in watch mode is tried again after this long, then twice as long each time.
RETRY_MAX_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class IndexingStatus:
    """Whether the sources made it into the live generation: after a failed reindex the live
    generation is stale (older than the sources) until one succeeds."""

    error: str | None = None
    """The last failure, while no reindex succeeded since."""
    failing_since: datetime | None = None
    failures: int = 0

    @property
    def stale(self) -> bool:
        return self.error is not None


def give_memory_back() -> None:
    """Return the heap a build freed to the system (``malloc_trim``).

    A build allocates hundreds of megabytes in small pieces (texts, token ids, vectors,
    postings); freed, they stay in glibc's arenas, so the service's resident memory grew by
    ~500 MB at each full reindex of 1,000 news pages and never came down (``python -m
    benchmarks.memory``). Trimming after each build keeps what the next generation needs and
    no more. A no-op where the C library has no ``malloc_trim`` (musl, macOS)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _lower_priority() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), REINDEX_NICENESS)
    except OSError as exc:  # not Linux, or not permitted: builds just run at normal priority
        log.info("reindex thread keeps normal priority: %s", exc)


class Reindexer:
    """Builds the configured sources into the service's index and swaps the result in."""

    def __init__(self, settings: ServiceSettings, embedder: Embedder, live: LiveIndex) -> None:
        self.settings = settings
        self.embedder = embedder
        self.live = live
        self._worker = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="reindex", initializer=_lower_priority
        )
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._claim = WatchClaim(settings.index_dir)
        self.status = IndexingStatus()
        self._retry: threading.Timer | None = None
        self._retry_lock = threading.Lock()

    def run(self, full: bool = False) -> BuildReport:
        """Reindex now (after any build already queued) and return what it did; raises
        ``IndexerError`` for the failures the indexer names, ``ReindexFailed`` for any other.

        A failure marks the live generation stale (``status``) and, in watch mode, is tried
        again by itself after ``reindex_retry_seconds``, doubling up to five minutes, until a
        run succeeds: a full disk heals without a restart or a new change to the sources."""
        try:
            report = self._worker.submit(self._build, full).result()
        except IndexerError as exc:
            self._failed(str(exc))
            raise
        except Exception as exc:
            problem = f"reindex failed, the live generation stays: {type(exc).__name__}: {exc}"
            self._failed(problem)
            raise ReindexFailed(problem) from exc
        self.status = IndexingStatus()
        return report

    def _failed(self, problem: str) -> None:
        REINDEX_RUNS.labels("failed").inc()
        before = self.status
        self.status = IndexingStatus(
            problem, before.failing_since or datetime.now(UTC), before.failures + 1
        )
        if self.settings.watch and not self._stop.is_set():
            delay = min(
                RETRY_MAX_SECONDS, self.settings.reindex_retry_seconds * 2 ** (before.failures)
            )
            log.warning("reindex failed (%s); trying again in %.0f s", problem, delay)
            with self._retry_lock:
                if self._retry is not None:
                    self._retry.cancel()
                self._retry = threading.Timer(delay, self._try_again)
                self._retry.daemon = True
                self._retry.start()

    def _try_again(self) -> None:
        with suppress(Exception):  # recorded by run(), which scheduled the next attempt
            self.run()

    def _build(self, full: bool) -> BuildReport:
        try:
            return self._build_and_swap(full)
        finally:
            give_memory_back()

    def _build_and_swap(self, full: bool) -> BuildReport:
        with timed(REINDEX_SECONDS):
            report = build_index(
                self.settings.sources,
                self.settings,
                self.embedder,
                progress=False,
                full=full,
                live=self.live.snapshot(),
            )
            log.info("%s", report.summary())
            self.live.refresh()
        REINDEX_RUNS.labels("ok").inc()
        return report

    def start_watching(self) -> bool:
        """Catch up with changes made while the service was down (or build the first index),
        then reindex whenever the sources change, from a daemon thread, until ``close()``.

        False, and nothing done, when another process watches this index already (another
        worker of the same service): this one serves what that one builds.
        """
        if not self._claim.acquire():
            log.info("another process watches the sources of %s", self.settings.index_dir)
            return False
        try:
            self.run()
        except IndexerError as exc:
            log.error("startup reindex failed, serving what the index holds: %s", exc)
        except Exception:  # serving the index as it is beats not starting
            log.exception("startup reindex failed unexpectedly, serving what the index holds")
        self._watcher = threading.Thread(target=self._watch, name="source-watcher", daemon=True)
        self._watcher.start()
        return True

    def _watch(self) -> None:
        try:
            watch_sources(
                self.settings.sources,
                self.settings.index_dir,
                self.settings.watch_debounce_seconds,
                self.run,
                self._stop,
            )
        except IndexerError as exc:
            log.error("not watching: %s", exc)

    def close(self) -> None:
        self._stop.set()
        with self._retry_lock:
            if self._retry is not None:
                self._retry.cancel()
        if self._watcher is not None:
            self._watcher.join(timeout=10)
        self._worker.shutdown(wait=True)
        self._claim.release()


def reindex_response(report: BuildReport) -> ReindexResponse:
    """What a reindex did, as the admin and document endpoints answer it."""
    manifest = report.manifest
    return ReindexResponse(
        generation=manifest.generation,
        built_at=manifest.built_at,
        written=report.written,
        full=report.full,
        added=report.added,
        changed=report.changed,
        deleted=report.deleted,
        unchanged=report.unchanged,
        documents=manifest.document_count,
        passages=manifest.passage_count,
        seconds=round(report.seconds, 3),
    )
