"""The fast path for ``GET /search`` and ``GET /ask``: the same answers as the FastAPI routes,
and everything it does not answer itself left to them."""

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from indexer import IndexSettings, IndexStore, build_index
from service.api.fast_path import QueryFastPath
from service.engine.live import LiveIndex
from service.settings import ServiceSettings
from tests.conftest import SEEDS, RunningServer


@pytest.mark.slow
@pytest.mark.parametrize(
    "question", ["what are the deal's phases?", "Who is Hersh Goldberg-Polin?", "sourdough"]
)
def test_get_answers_as_the_post_routes_do(seed_server: RunningServer, question: str) -> None:
    with httpx.Client(base_url=seed_server.base_url, timeout=30) as client:
        for path, field in (("/search", "query"), ("/ask", "question")):
            fast = client.get(path, params={"q": question, "k": 3})
            routed = client.post(path, json={field: question, "k": 3})
            assert fast.status_code == routed.status_code == 200
            assert fast.headers["content-type"] == routed.headers["content-type"]
            assert _without_timing(fast.json()) == _without_timing(routed.json())


def _without_timing(body: dict) -> dict:
    return {key: value for key, value in body.items() if key != "took_ms"}


class Recorder:
    """The app behind the middleware: records what reached it, answers 418."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope, receive, send) -> None:
        self.paths.append(f"{scope['path']}?{scope['query_string'].decode()}")
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def _get(middleware: QueryFastPath, app, path: str, query: str) -> tuple[int, bytes]:
    scope = {"type": "http", "method": "GET", "path": path, "query_string": query.encode()}
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(middleware({**scope, "app": app}, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_only_well_formed_gets_are_answered_here(tmp_path: Path, fake_embedder) -> None:
    build_index([SEEDS], IndexSettings(index_dir=tmp_path), fake_embedder, progress=False)
    live = LiveIndex(IndexStore(tmp_path), fake_embedder)
    live.refresh()
    app = SimpleNamespace(state=SimpleNamespace(live=live, settings=ServiceSettings()))
    behind = Recorder()
    middleware = QueryFastPath(behind)

    status, body = _get(middleware, app, "/search", "q=phase+of+the+deal&k=2")
    assert status == 200 and len(json.loads(body)["results"]) == 2
    status, body = _get(middleware, app, "/ask", "q=phase+of+the+deal")
    assert status == 200 and "answer" in json.loads(body)
    assert behind.paths == []

    passed_on = [
        ("/search", ""),  # no question
        ("/search", "q="),  # rejected by the request model
        ("/search", "q=deal&region=europe"),  # an unknown parameter: refused, never ignored
        ("/search", "q=deal&k=0"),
        ("/ask", "q=deal&k=many"),
        ("/documents", "q=deal"),
    ]
    for path, query in passed_on:
        assert _get(middleware, app, path, query)[0] == 418
    assert behind.paths == [f"{path}?{query}" for path, query in passed_on]

    empty = SimpleNamespace(
        state=SimpleNamespace(
            live=LiveIndex(IndexStore(tmp_path / "none"), fake_embedder), settings=ServiceSettings()
        )
    )
    assert _get(middleware, empty, "/search", "q=deal")[0] == 418  # no index: FastAPI's 503
