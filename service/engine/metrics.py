"""The service's Prometheus metrics: defined once here, counted where things happen (the HTTP
telemetry middleware, the searcher's stages, the query encoder, the reindexer), and rendered by
``GET /metrics``.

With ``--workers N`` every worker counts into files of one directory that all of them share
(prometheus-client's multiprocess mode: ``PROMETHEUS_MULTIPROC_DIR``, which ``python -m
service`` sets before the workers start), and a scrape adds them up, whichever worker answers
it. The live index's figures are read at scrape time from the answering worker (all workers
serve the same generation within ``refresh_interval_seconds``).
"""

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from indexer import IndexSnapshot

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# A ``*_created`` series per counter and histogram doubles the scrape and says nothing here.
disable_created_metrics()
# From a cached GET (~1 ms) to a search of a large index under load.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_STAGE_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5)

REQUESTS = Counter(
    "newsqa_http_requests",
    "HTTP requests answered, by route (its template), method and status code.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "newsqa_http_request_duration_seconds",
    "Seconds from a request's arrival to the end of its response, by route and method.",
    ["route", "method"],
    buckets=_LATENCY_BUCKETS,
)
STAGE_SECONDS = Histogram(
    "newsqa_search_stage_seconds",
    "Seconds a search spends per stage: encode (waiting for the query vector, after the work "
    "that needs none), retrieve (candidates and their signals), rank (fusion, copies dropped, "
    "sentences chosen), answer (/ask's answer and parts).",
    ["stage"],
    buckets=_STAGE_BUCKETS,
)
ENCODER_PENDING = Gauge(
    "newsqa_encoder_pending_queries",
    "Queries handed to the encoder threads and not yet encoded (queued or running).",
    multiprocess_mode="livesum",
)
ENCODER_BATCH = Histogram(
    "newsqa_encoder_batch_size",
    "Queries encoded per model call.",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
REINDEX_RUNS = Counter(
    "newsqa_reindex_runs", "Reindex runs in the service, by outcome (ok, failed).", ["outcome"]
)
REINDEX_SECONDS = Histogram(
    "newsqa_reindex_duration_seconds",
    "Seconds per reindex run in the service, failed ones included.",
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800),
)


STAGES = {stage: STAGE_SECONDS.labels(stage) for stage in ("encode", "retrieve", "rank", "answer")}


class StageClock:
    """Adds up the seconds a search spends in each stage between laps (a stage may come back:
    retrieval runs before and after the query vector), observed once per stage by ``record``."""

    def __init__(self) -> None:
        self._last = time.perf_counter()
        self._spent: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        """The time since the previous lap (or the start) was spent in ``stage``."""
        now = time.perf_counter()
        self._spent[stage] = self._spent.get(stage, 0.0) + now - self._last
        self._last = now

    def record(self) -> None:
        for stage, seconds in self._spent.items():
            STAGES[stage].observe(seconds)


@contextmanager
def timed(histogram: Histogram) -> Iterator[None]:
    began = time.perf_counter()
    try:
        yield
    finally:
        histogram.observe(time.perf_counter() - began)


class IndexCollector(Collector):
    """The live generation's figures, read when scraped: which generation, how big, how old."""

    def __init__(self, snapshot: Callable[[], IndexSnapshot | None]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        snapshot = self._snapshot()
        if snapshot is None:
            return
        manifest = snapshot.manifest
        info = GaugeMetricFamily(
            "newsqa_index_generation",
            "1 for the live index generation, labelled with its name.",
            labels=["generation"],
        )
        info.add_metric([manifest.generation], 1)
        yield info
        yield GaugeMetricFamily(
            "newsqa_index_documents", "Documents in the live generation.", manifest.document_count
        )
        yield GaugeMetricFamily(
            "newsqa_index_passages", "Passages in the live generation.", manifest.passage_count
        )
        yield GaugeMetricFamily(
            "newsqa_index_age_seconds",
            "Seconds since the live generation was built.",
            time.time() - manifest.built_at.timestamp(),
        )


def exposition(snapshot: Callable[[], IndexSnapshot | None]) -> bytes:
    """The text a scrape of ``/metrics`` gets: every process's counts, and the live index."""
    if os.environ.get(MULTIPROCESS_VARIABLE):
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    index = CollectorRegistry()
    index.register(IndexCollector(snapshot))
    return generate_latest(counted) + generate_latest(index)
