"""Query encoding for a busy service: an LRU cache in front, and one batching thread behind.

Routes run in FastAPI's thread pool, so many requests may want a query vector at once. Rather
than each thread running the transformer (threads fighting over two cores, each inference
already using both), every request hands its text to one encoder thread and waits. That thread
encodes whatever has queued up while the previous batch ran, as one batch: at concurrency 1 a
query waits for nobody, under load batches form by themselves and throughput rises, because one
inference over 8 short queries costs far less than 8 inferences.
"""

import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from indexer import Embedder

log = logging.getLogger(__name__)

MAX_BATCH = 64
"""Queries encoded together at most; a bigger batch only delays its first caller."""


@dataclass(slots=True)
class _Pending:
    text: str
    done: threading.Event = field(default_factory=threading.Event)
    vector: np.ndarray | None = None
    error: BaseException | None = None


class QueryEncoder:
    """An ``Embedder`` whose ``encode_query`` is cached and micro-batched; passages pass through.

    ``wait_ms`` > 0 makes the encoder thread linger that long after the first query of a batch
    for more to arrive; 0 (the default, by measurement) takes only those already queued.
    """

    def __init__(self, embedder: Embedder, cache_size: int = 1024, wait_ms: float = 0.0) -> None:
        self.embedder = embedder
        self.name = embedder.name
        self.dimension = embedder.dimension
        self.backend = getattr(embedder, "backend", "unrecorded")
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()
        self._wait = wait_ms / 1000
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def encode_query(self, text: str) -> np.ndarray:
        cached = self._cached(text)
        if cached is not None:
            return cached
        pending = _Pending(text)
        self._ensure_thread()
        self._queue.put(pending)
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        assert pending.vector is not None
        self._remember(text, pending.vector)
        return pending.vector

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self.embedder.encode_passages(texts, progress=progress)

    def close(self) -> None:
        """Stop the encoder thread (queries still queued are answered first)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def _cached(self, text: str) -> np.ndarray | None:
        if not self._cache_size:
            return None
        with self._cache_lock:
            vector = self._cache.get(text)
            if vector is not None:
                self._cache.move_to_end(text)
            return vector

    def _remember(self, text: str, vector: np.ndarray) -> None:
        if not self._cache_size:
            return
        with self._cache_lock:
            self._cache[text] = vector
            self._cache.move_to_end(text)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _ensure_thread(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                thread = threading.Thread(target=self._serve, name="query-encoder", daemon=True)
                thread.start()
                self._thread = thread

    def _serve(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            deadline = time.monotonic() + self._wait
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    timeout = deadline - time.monotonic()
                    item = (
                        self._queue.get(timeout=timeout)
                        if timeout > 0
                        else self._queue.get_nowait()
                    )
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._encode(batch)
            if stop:
                return

    def _encode(self, batch: list[_Pending]) -> None:
        texts = [item.text for item in batch]
        try:
            encode_many = getattr(self.embedder, "encode_queries", None)
            if encode_many is not None:
                vectors = encode_many(texts)
            else:
                vectors = np.stack([self.embedder.encode_query(text) for text in texts])
        except Exception as exc:  # handed to every waiting request, which re-raises it
            for item in batch:
                item.error = exc
                item.done.set()
            return
        for item, vector in zip(batch, vectors, strict=True):
            vector.setflags(write=False)
            item.vector = vector
            item.done.set()
