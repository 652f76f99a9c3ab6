"""The query encoder: concurrent queries share one encoder call, repeats come from the cache,
and an encoder failure reaches the caller without stopping later queries."""

import threading
from collections.abc import Sequence

import numpy as np
import pytest

from service.engine.encoding import QueryEncoder
from service.errors import Overloaded
from tests.conftest import FakeEmbedder


class GatedEmbedder(FakeEmbedder):
    """Records every batch; the first batch waits at a gate, so others queue up meanwhile."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.inside = threading.Event()
        self.gate = threading.Event()
        self.fail_on: str | None = None

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.batches.append(list(texts))
        self.inside.set()
        self.gate.wait(timeout=10)
        if self.fail_on in texts:
            raise RuntimeError("encoder broke")
        return self.encode_passages(texts)


@pytest.fixture
def gated() -> GatedEmbedder:
    return GatedEmbedder()


def ask_in_threads(encoder: QueryEncoder, texts: list[str]) -> tuple[list, list[threading.Thread]]:
    results: list = [None] * len(texts)

    def run(i: int) -> None:
        results[i] = encoder.encode_query(texts[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    return results, threads


def test_queries_arriving_during_an_encode_are_encoded_together(gated: GatedEmbedder) -> None:
    encoder = QueryEncoder(gated)
    first, first_threads = ask_in_threads(encoder, ["first query"])
    assert gated.inside.wait(timeout=10)
    texts = [f"query number {i}" for i in range(6)]
    later, threads = ask_in_threads(encoder, texts)
    while encoder._queue.qsize() < len(texts):  # all six are waiting behind the gate
        threading.Event().wait(0.005)
    gated.gate.set()
    for thread in first_threads + threads:
        thread.join(timeout=10)
    encoder.close()
    assert [len(batch) for batch in gated.batches] == [1, 6]
    for text, vector in zip(["first query", *texts], first + later, strict=True):
        np.testing.assert_allclose(vector, gated.encode_query(text), rtol=1e-6)


def test_a_repeated_query_is_answered_from_the_cache(gated: GatedEmbedder) -> None:
    gated.gate.set()
    encoder = QueryEncoder(gated, cache_size=2)
    first = encoder.encode_query("who won?")
    again = encoder.encode_query("who won?")
    assert len(gated.batches) == 1
    assert again is first
    assert not again.flags.writeable  # shared between requests, so nobody may change it
    encoder.encode_query("second")
    encoder.encode_query("third")  # evicts "who won?", the least recently used
    encoder.encode_query("who won?")
    encoder.close()
    assert len(gated.batches) == 4


def test_an_encoder_failure_reaches_the_caller_and_later_queries_still_work(
    gated: GatedEmbedder,
) -> None:
    gated.gate.set()
    gated.fail_on = "poison"
    encoder = QueryEncoder(gated, cache_size=0)
    with pytest.raises(RuntimeError, match="encoder broke"):
        encoder.encode_query("poison")
    vector = encoder.encode_query("fine")
    encoder.close()
    np.testing.assert_allclose(vector, gated.encode_query("fine"), rtol=1e-6)


def test_an_embedder_without_batch_encoding_is_called_per_query() -> None:
    encoder = QueryEncoder(FakeEmbedder(), wait_ms=1.0)
    vector = encoder.encode_query("plain embedder")
    encoder.close()
    np.testing.assert_allclose(vector, FakeEmbedder().encode_query("plain embedder"), rtol=1e-6)


class OneAtATimeEmbedder(FakeEmbedder):
    """Like the int8 ONNX backend: two encoder threads, one query per call."""

    parallel_queries = 2
    query_batch_limit = 1

    def __init__(self) -> None:
        self.calls: list[int] = []

    def encode_query(self, text: str) -> np.ndarray:
        self.calls.append(1)
        return self.encode_passages([text])[0]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        return self.encode_passages(texts)


def test_an_embedder_asking_for_single_queries_never_gets_a_batch() -> None:
    embedder = OneAtATimeEmbedder()
    encoder = QueryEncoder(embedder, cache_size=0)
    texts = [f"concurrent question {i}" for i in range(24)]
    results, threads = ask_in_threads(encoder, texts)
    for thread in threads:
        thread.join(timeout=10)
    encoder.close()
    assert set(embedder.calls) == {1}
    assert len(embedder.calls) == len(texts)
    for text, vector in zip(texts, results, strict=True):
        np.testing.assert_allclose(vector, embedder.encode_query(text), rtol=1e-6)


class GatedOneAtATime(OneAtATimeEmbedder):
    """One query per call, each waiting at a gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def encode_query(self, text: str) -> np.ndarray:
        self.gate.wait(timeout=10)
        return super().encode_query(text)


@pytest.mark.parametrize("embedder_kind", [GatedEmbedder, GatedOneAtATime])
def test_a_query_vector_is_promised_at_once_and_computed_meanwhile(embedder_kind) -> None:
    embedder = embedder_kind()
    encoder = QueryEncoder(embedder, cache_size=0)
    soon = encoder.encode_query_soon("while the caller goes on")
    threading.Event().wait(0.05)
    assert not soon.done()  # the model is still at the gate: the caller was not held up
    embedder.gate.set()
    vector = soon.result(timeout=10)
    encoder.close()
    np.testing.assert_allclose(vector, embedder.encode_query("while the caller goes on"), rtol=1e-6)


class LoneAwareEmbedder(OneAtATimeEmbedder):
    """Like the int8 ONNX backend, which runs a query known to be alone on every core."""

    def __init__(self) -> None:
        super().__init__()
        self.lone: list[str] = []

    def encode_lone_query(self, text: str) -> np.ndarray:
        self.lone.append(text)
        return self.encode_passages([text])[0]


def test_only_a_search_with_no_other_in_flight_runs_its_query_on_every_core() -> None:
    embedder = LoneAwareEmbedder()
    encoder = QueryEncoder(embedder, cache_size=0)
    with encoder.searching() as first:
        with encoder.searching() as second:
            encoder.encode_query_soon("second", second).result(timeout=10)
        encoder.encode_query_soon("first", first).result(timeout=10)
    with encoder.searching() as later:  # the others are done: alone again
        vector = encoder.encode_query_soon("later", later).result(timeout=10)
    encoder.close()
    assert (first, second, later) == (True, False, True)
    assert embedder.lone == ["first", "later"] and embedder.calls == [1]
    np.testing.assert_allclose(vector, embedder.encode_query("later"), rtol=1e-6)


def test_queries_beyond_the_bound_are_refused_at_once_until_the_queue_drains(
    gated: GatedEmbedder,
) -> None:
    encoder = QueryEncoder(gated, cache_size=0, max_pending=2)
    waiting, threads = ask_in_threads(encoder, ["first", "second"])
    while encoder._pending < 2:
        threading.Event().wait(0.005)
    with pytest.raises(Overloaded, match="2 queries are waiting"):
        encoder.encode_query_soon("third")
    gated.gate.set()
    for thread in threads:
        thread.join(timeout=10)
    assert all(vector is not None for vector in waiting)
    assert encoder.encode_query("fourth").shape == (gated.dimension,)  # admitted again
    encoder.close()
