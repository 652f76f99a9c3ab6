"""The service with its default settings: the int8 ONNX model made by the factory, serving an
index built with torch (backends of one model share indexes)."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from service.settings import ServiceSettings
from tests.conftest import REPO, RunningServer, free_port, serve

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def onnx_server(seed_index: Path) -> Iterator[RunningServer]:
    settings = ServiceSettings(
        index_dir=seed_index,
        port=free_port(),
        embedding_backend="onnx-int8",
        onnx_cache_dir=REPO / ".cache" / "onnx",
    )
    yield from serve(settings, None)


def test_an_index_built_with_torch_answers_through_the_int8_model(
    onnx_server: RunningServer,
) -> None:
    body = httpx.get(
        f"{onnx_server.base_url}/ask", params={"q": "what are the deal's phases?"}, timeout=30
    ).json()
    assert "phase" in body["answer"]["text"]


def test_concurrent_requests_all_get_their_own_results(onnx_server: RunningServer) -> None:
    questions = [f"what happens in phase {n} of the deal?" for n in range(12)] * 2

    def search(question: str) -> dict:
        response = httpx.get(
            f"{onnx_server.base_url}/search", params={"q": question, "k": 3}, timeout=30
        )
        assert response.status_code == 200
        return response.json()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(search, questions))
    for question, body in zip(questions, answers, strict=True):
        assert body["query"] == question
    # the second round (cached vectors) ranks exactly like the first
    first, second = answers[:12], answers[12:]
    assert [[r["citation"]["chunk_id"] for r in a["results"]] for a in first] == [
        [r["citation"]["chunk_id"] for r in a["results"]] for a in second
    ]
