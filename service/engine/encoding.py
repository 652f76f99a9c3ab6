"""Query encoding for a busy service: an LRU cache in front, and encoder threads behind.

Many requests may want a query vector at once. Rather than each running the transformer
(fighting over two cores), every request hands its text to a fixed set of encoder threads and
gets a future: the caller (the event loop, for the HTTP routes) goes on with the work that needs
no vector, the lexical half of a search, while the model runs, since inference releases the GIL.
Measured with interleaved runs at one client, that overlap took 1-6% off the p50 of a search over
HTTP and a fifth off its p95.

The embedder says how it is best driven: ``parallel_queries`` encoder threads (the ONNX backend
runs each query on one core, so one thread per core; torch uses every core per call, so one
thread), and ``query_batch_limit`` queries per call (1 for int8, whose vectors would otherwise
depend on their batch companions). When it takes more than one, an encoder thread encodes
whatever has queued up while it was busy, as one batch: at concurrency 1 a query waits for
nobody, under load batches form by themselves, and one inference over 8 short queries costs far
less than 8.
"""

import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from indexer.embedding import MAX_QUERY_BATCH, BaseEmbedder, Embedder, TokenSums
from service.engine.metrics import ENCODER_BATCH, ENCODER_PENDING
from service.errors import Overloaded

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Pending:
    text: str
    vector: "Future[np.ndarray]" = field(default_factory=Future)


class QueryEncoder(BaseEmbedder):
    """An ``Embedder`` whose ``encode_query`` is cached, run by encoder threads and micro-batched
    (``encode_query_soon`` returns at once with a future); passages pass through. Itself an
    ``Embedder``, so the index and the searcher take either.

    ``wait_ms`` > 0 makes an encoder thread linger that long after the first query of a batch
    for more to arrive; 0 (the default) takes only those already queued: a lone query never
    waits for company, and under load batches form anyway. With the int8 default every call
    takes one query, so there is no queue to linger on.
    """

    def __init__(
        self,
        embedder: Embedder,
        cache_size: int = 1024,
        wait_ms: float = 0.0,
        max_pending: int | None = None,
    ) -> None:
        self.embedder = embedder
        self._max_pending = max_pending
        self._pending = 0
        self._pending_lock = threading.Lock()
        self.name = embedder.name
        self.dimension = embedder.dimension
        self.backend = embedder.backend
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()
        self._wait = wait_ms / 1000
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._workers = max(1, embedder.parallel_queries)
        # A bigger batch than MAX_QUERY_BATCH would only delay its first caller.
        self._batch_limit = max(1, min(MAX_QUERY_BATCH, embedder.query_batch_limit))
        # One query per call: nothing to batch, so a plain pool of encoder threads does.
        self._pool = (
            ThreadPoolExecutor(self._workers, thread_name_prefix="query-encoder")
            if self._batch_limit == 1
            else None
        )
        self._threads: list[threading.Thread] = []
        self._start_lock = threading.Lock()
        self._searching = 0
        self._searching_lock = threading.Lock()

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode_query_soon(text).result()

    @contextmanager
    def searching(self) -> Iterator[bool]:
        """Counts a search as in flight while the block runs; gives whether it is the only one
        (whose query may then use every core: ``encode_query_soon``'s ``alone``)."""
        with self._searching_lock:
            self._searching += 1
            alone = self._searching == 1
        try:
            yield alone
        finally:
            with self._searching_lock:
                self._searching -= 1

    def encode_query_soon(self, text: str, alone: bool = False) -> "Future[np.ndarray]":
        """The query's vector, computed by an encoder thread (or taken from the cache) while
        the caller goes on; a failure of the model is raised by the future's ``result()``.

        ``alone``: no other search is in flight, so an embedder that can run one query on
        several cores (``encode_lone_query``) does. Counting searches, not encodes, is what
        keeps this off under load: between two encodes the encoder threads idle for a moment
        while the event loop does other requests' Python, and a query started then on both
        cores took 24% off the requests/s at 8 clients.
        """
        cached = self._cached(text)
        if cached is not None:
            done: Future[np.ndarray] = Future()
            done.set_result(cached)
            return done
        self._admit()
        if self._pool is not None:
            encode = self.embedder.encode_lone_query if alone else self.embedder.encode_query
            return self._pool.submit(self._encode_with, encode, text)
        pending = _Pending(text)
        self._ensure_thread()
        self._queue.put(pending)
        return pending.vector

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self.embedder.encode_passages(texts, progress=progress)

    def encode_token_sums(self, texts: Sequence[str], progress: bool = False) -> TokenSums:
        return self.embedder.encode_token_sums(texts, progress=progress)

    def close(self) -> None:
        """Stop the encoder threads (queries still queued are answered first)."""
        if self._pool is not None:
            self._pool.shutdown()
        with self._start_lock:
            for _ in self._threads:
                self._queue.put(None)
            for thread in self._threads:
                thread.join(timeout=10)
            self._threads = []

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
        if self._threads:
            return
        with self._start_lock:
            if not self._threads:
                for number in range(self._workers):
                    thread = threading.Thread(
                        target=self._serve, name=f"query-encoder-{number}", daemon=True
                    )
                    thread.start()
                    self._threads.append(thread)

    def _serve(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            deadline = time.monotonic() + self._wait
            stop = False
            while len(batch) < self._batch_limit:
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

    def _admit(self) -> None:
        """Count a query in for encoding, or refuse it when ``max_pending`` already wait."""
        with self._pending_lock:
            if self._max_pending is not None and self._pending >= self._max_pending:
                raise Overloaded(
                    f"{self._pending} queries are waiting for the model already; "
                    f"try again in {Overloaded.retry_after_seconds} s"
                )
            self._pending += 1
        ENCODER_PENDING.inc()

    def _release(self, count: int) -> None:
        with self._pending_lock:
            self._pending -= count
        ENCODER_PENDING.dec(count)

    def _encode_with(self, encode: Callable[[str], np.ndarray], text: str) -> np.ndarray:
        ENCODER_BATCH.observe(1)
        try:
            vector = np.asarray(encode(text))
        finally:
            self._release(1)
        vector.setflags(write=False)
        self._remember(text, vector)
        return vector

    def _encode(self, batch: list[_Pending]) -> None:
        ENCODER_BATCH.observe(len(batch))
        try:
            vectors = np.asarray(self.embedder.encode_queries([item.text for item in batch]))
        except Exception as exc:  # handed to every waiting request, which re-raises it
            for item in batch:
                item.vector.set_exception(exc)
            return
        finally:
            self._release(len(batch))
        for item, vector in zip(batch, vectors, strict=True):
            vector.setflags(write=False)
            self._remember(item.text, vector)
            item.vector.set_result(vector)
