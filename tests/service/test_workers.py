"""Several server processes on one port (``--workers``): one of them watches the sources and
reindexes, every request, whichever process answers it, sees what it built, and /metrics
counts the requests of all of them."""

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REPO, SEEDS, free_port

pytestmark = pytest.mark.slow

GLASS = (
    "Glassblowers end strike\n\n"
    "The glassblowers of Murano ended their nine-week strike on Tuesday. "
    "The furnace owners agreed to raise wages by twelve percent.\n"
)


def test_two_workers_share_one_watcher_and_serve_what_it_builds(tmp_path: Path) -> None:
    sources = tmp_path / "articles"
    shutil.copytree(SEEDS, sources)
    port = free_port()
    command = [sys.executable, "-m", "service", "--index-dir", str(tmp_path / "index")]
    command += ["--port", str(port), "--workers", "2", "--watch", str(sources)]
    process = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        assert _until(lambda: _status(base_url, "/ready") == 200, seconds=120)
        (sources / "glass.txt").write_text(GLASS, encoding="utf-8")
        assert _until(lambda: _finds_glass(base_url), seconds=30)
        # The other worker opens the new generation at its next look at CURRENT (every 0.5 s).
        time.sleep(1.0)
        # A new connection per request: the kernel hands each to either worker.
        assert all(_finds_glass(base_url) for _ in range(12))
        # Each worker counted its own; a scrape of either adds them all up.
        assert {_searches_counted(base_url) for _ in range(6)} == {_SEARCHES[0]}
    finally:
        process.terminate()
        _, log = process.communicate(timeout=60)
    assert process.returncode == 0, log
    assert log.count("Application startup complete") == 2, log
    assert log.count("another process watches the sources") == 1, log


_SEARCHES = [0]


def _searches_counted(base_url: str) -> float:
    text = httpx.get(f"{base_url}/metrics").text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "newsqa_http_requests_total" and sample.labels["route"] == "/search"
    )


def _finds_glass(base_url: str) -> bool:
    _SEARCHES[0] += 1
    response = httpx.get(f"{base_url}/search", params={"q": "Murano glassblowers strike", "k": 1})
    results = response.json()["results"] if response.status_code == 200 else []
    return bool(results) and "Murano" in results[0]["text"]


def _status(base_url: str, path: str) -> int:
    try:
        return httpx.get(base_url + path, timeout=5).status_code
    except httpx.TransportError:
        return 0


def _until(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False
