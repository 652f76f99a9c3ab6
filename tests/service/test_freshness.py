"""Staying fresh under load: a real server with ``--watch`` and the real model, a client asking
questions non-stop, and articles added, edited and deleted in the watched folder."""

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from service.settings import ServiceSettings
from tests.conftest import SEED_ID, SEEDS, RunningServer, free_port, serve

pytestmark = pytest.mark.slow

VISIBLE_WITHIN = 3.0
# Answerable from the seed article before and after every change below.
STEADY_QUESTIONS = ["what are the deal's phases?", "How many people have been killed in Gaza?"]
GLASS = (
    "Glassblowers end strike\n\n"
    "The glassblowers of Murano ended their nine-week strike on Tuesday. "
    "The furnace owners agreed to raise wages by twelve percent.\n"
)
GLASS_QUESTION = "Why did the Murano glassblowers end their strike?"
LIGHTHOUSE = "\nThe negotiators later met in a disused lighthouse on the coast of Zanzibar.\n"
LIGHTHOUSE_QUESTION = "Where did the negotiators meet, in a lighthouse?"


class SteadyClient:
    """Sends /search requests back to back from a thread and records every failure."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.failures: list[str] = []
        self.requests = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "SteadyClient":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            while not self._stop.is_set():
                question = STEADY_QUESTIONS[self.requests % len(STEADY_QUESTIONS)]
                response = client.get("/search", params={"q": question, "k": 3})
                self.requests += 1
                if response.status_code != 200:
                    self.failures.append(f"{response.status_code}: {response.text}")
                elif not response.json()["results"]:
                    self.failures.append(f"no results for {question!r}")


@pytest.fixture
def watched_server(tmp_path: Path, real_embedder) -> Iterator[RunningServer]:
    sources = tmp_path / "seeds"
    shutil.copytree(SEEDS, sources)
    settings = ServiceSettings(
        index_dir=tmp_path / "index",
        sources=[sources],
        watch=True,
        watch_debounce_seconds=0.3,
        port=free_port(),
    )
    # No index yet: with watch on, the service builds one before it starts serving.
    yield from serve(settings, real_embedder)


def seconds_until(condition: Callable[[], bool], limit: float) -> float:
    began = time.monotonic()
    while not condition():
        assert time.monotonic() - began < limit + 5, "change never became visible"
        time.sleep(0.05)
    return time.monotonic() - began


def test_added_changed_and_deleted_articles_show_within_seconds_without_failed_requests(
    watched_server: RunningServer,
) -> None:
    folder = watched_server.settings.sources[0]
    http = httpx.Client(base_url=watched_server.base_url, timeout=30)

    def top_docs(question: str) -> list[str]:
        results = http.get("/search", params={"q": question, "k": 3}).json()["results"]
        return [r["citation"]["doc_id"] for r in results]

    def passages(question: str) -> str:
        results = http.get("/search", params={"q": question, "k": 5}).json()["results"]
        return " ".join(r["text"] for r in results)

    assert http.get("/ready").json()["documents"] == 1
    with SteadyClient(watched_server.base_url) as steady:
        (folder / "glass.txt").write_text(GLASS, encoding="utf-8")
        added = seconds_until(lambda: top_docs(GLASS_QUESTION)[0] == "glass.txt", VISIBLE_WITHIN)

        # An editor's save: write a temporary file, then rename it over the original.
        seed = folder / SEED_ID
        temporary = folder / f".{SEED_ID}.swp"
        temporary.write_text(seed.read_text(encoding="utf-8") + LIGHTHOUSE, encoding="utf-8")
        temporary.replace(seed)
        changed = seconds_until(
            lambda: "lighthouse" in passages(LIGHTHOUSE_QUESTION), VISIBLE_WITHIN
        )

        (folder / "glass.txt").unlink()
        deleted = seconds_until(lambda: "glass.txt" not in top_docs(GLASS_QUESTION), VISIBLE_WITHIN)
        for _ in range(20):
            assert "glass.txt" not in top_docs(GLASS_QUESTION)
            assert http.get("/documents/glass.txt").status_code == 404
            time.sleep(0.05)
    http.close()
    assert max(added, changed, deleted) <= VISIBLE_WITHIN, (added, changed, deleted)
    assert steady.requests > 10
    assert steady.failures == []
