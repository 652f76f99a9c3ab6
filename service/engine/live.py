"""The live index: which generation requests are answered from, swapped without downtime.

A request takes the current ``Searcher`` once and keeps it to the end, so swapping in a new
generation never changes data under a request in flight. A background thread reads the
``CURRENT`` pointer every ``refresh_interval_seconds`` (a 30-byte read) and opens a new
generation off the request path, so one built by a separate ``python -m indexer`` is served
within that interval; an in-process reindex calls ``refresh()`` directly.
"""

import logging
import threading

from indexer import Embedder, IndexSnapshot, IndexStore
from indexer.errors import IndexerError
from service.engine.query import RetrievalMode
from service.engine.search import Searcher
from service.errors import IndexUnavailable

log = logging.getLogger(__name__)


class LiveIndex:
    """Holds the searcher of the live generation and opens a new one when the pointer moves."""

    def __init__(
        self, store: IndexStore, embedder: Embedder, mode: RetrievalMode = "hybrid"
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.mode = mode
        self._searcher: Searcher | None = None
        self._problem = "the index has not been loaded yet"
        self._lock = threading.Lock()
        self._failed: str | None = None
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None

    def searcher(self) -> Searcher:
        searcher = self._searcher
        if searcher is None:
            raise IndexUnavailable(self._problem)
        return searcher

    def snapshot(self) -> IndexSnapshot | None:
        """The generation being served, if any: an in-process reindex builds on it."""
        searcher = self._searcher
        return None if searcher is None else searcher.snapshot

    def refresh(self) -> bool:
        """Open the generation ``CURRENT`` names if it is not the loaded one; True if swapped.

        A generation that cannot be opened leaves the previous one serving.
        """
        with self._lock:
            name = self.store.current_generation()
            loaded = self._searcher.snapshot.generation if self._searcher else None
            if name is None and loaded is None:
                self._problem = (
                    f"no index in {self.store.index_dir}: build one with `python -m indexer`"
                )
                return False
            if name is None or name == loaded or name == self._failed:
                return False
            try:
                snapshot = self.store.open(self.embedder.name, self.embedder.dimension, name)
            except IndexerError as exc:
                # Logged once: polling must not repeat it every interval.
                log.error("cannot open index generation %s: %s", name, exc)
                self._problem = str(exc)
                self._failed = name
                return False
            self._searcher = Searcher(snapshot, self.embedder, self.mode)
            log.info("serving index generation %s", name)
            return True

    def start_polling(self, interval: float) -> None:
        """Follow ``CURRENT`` from a daemon thread until ``stop_polling()``."""
        self._stop.clear()
        self._poller = threading.Thread(
            target=self._poll, args=(interval,), name="index-poller", daemon=True
        )
        self._poller.start()

    def stop_polling(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=5)
            self._poller = None

    def _poll(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.refresh()
            except OSError as exc:  # e.g. the index folder was removed under us
                log.warning("cannot read the index pointer: %s", exc)
