"""Limits that hold before work is done, on a real server."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx
import pytest

from indexer import IndexSettings, build_index
from service.settings import ServiceSettings
from tests.conftest import REPO, SEEDS, FakeEmbedder, RunningServer, free_port, serve


def _raw_request(base_url: str, head: bytes, body: bytes = b"") -> tuple[int, dict]:
    """Send ``head`` (and only ``body`` of whatever it declares) and read the response."""
    address = urlsplit(base_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(head + body)
        received = b""
        while b"\r\n\r\n" not in received or not received.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    status = int(received.split(b" ", 2)[1])
    return status, json.loads(received.split(b"\r\n\r\n", 1)[1])


def test_a_body_declared_too_big_is_refused_before_it_is_read(fake_server: RunningServer) -> None:
    head = (
        b"POST /search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 20000000\r\n\r\n"
    )
    began = time.perf_counter()
    status, body = _raw_request(fake_server.base_url, head, b'{"query": "')  # 20 MB never sent
    assert status == 413 and "request body over" in body["detail"] and body["request_id"]
    assert time.perf_counter() - began < 5  # answered without waiting for the 20 MB


def test_a_streamed_body_is_refused_once_it_passes_the_limit(fake_server: RunningServer) -> None:
    limit = fake_server.settings.max_body_bytes

    def chunks():
        yield b'{"query": "'
        for _ in range(limit // 1000 + 10):
            yield b"x" * 1000
        yield b'"}'

    response = httpx.post(
        f"{fake_server.base_url}/search",
        content=chunks(),  # no Content-Length: chunked transfer
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413
    assert response.json()["request_id"] == response.headers["x-request-id"]


def test_a_body_within_the_limit_is_served(fake_server: RunningServer) -> None:
    sources = [f"Outlet {i}" for i in range(20)]
    response = httpx.post(
        f"{fake_server.base_url}/search", json={"query": "deal", "source": sources}, timeout=30
    )
    assert response.status_code == 200


def test_a_stalled_body_is_a_408_in_time(tmp_path) -> None:
    settings = ServiceSettings(index_dir=tmp_path, port=free_port(), body_read_timeout_seconds=0.5)
    for running in serve(settings, FakeEmbedder()):
        head = (
            b"POST /search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n"
        )
        began = time.perf_counter()
        status, body = _raw_request(running.base_url, head, b'{"query": ')  # and then nothing
        assert status == 408 and "not received within 0.5 s" in body["detail"]
        assert time.perf_counter() - began < 5


@pytest.mark.slow
def test_sigterm_exits_within_the_graceful_timeout_with_a_stalled_client(tmp_path) -> None:
    port = free_port()
    env = {**os.environ, "NEWSQA_GRACEFUL_SHUTDOWN_SECONDS": "1"}
    command = [sys.executable, "-m", "service", "--index-dir", str(tmp_path), "--port", str(port)]
    process = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        with socket.create_connection(("127.0.0.1", port)) as stalled:
            stalled.sendall(b"POST /search HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            time.sleep(0.3)
            began = time.monotonic()
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=15)
        assert time.monotonic() - began < 5
        # uvicorn re-raises the signal once shut down: the status says "ended by SIGTERM".
        assert process.returncode in (0, -signal.SIGTERM)
    finally:
        process.kill()
        process.wait()


def test_an_overloaded_encoder_answers_503_with_retry_after(tmp_path) -> None:
    class Stalling(FakeEmbedder):
        gate = threading.Event()

        def encode_query(self, text):  # type: ignore[no-untyped-def]
            if text != "warm-up":
                self.gate.wait(timeout=10)
            return super().encode_query(text)

    build_index([SEEDS], IndexSettings(index_dir=tmp_path), FakeEmbedder(), progress=False)
    settings = ServiceSettings(index_dir=tmp_path, port=free_port(), max_pending_queries=1)
    embedder = Stalling()
    for running in serve(settings, embedder):
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(httpx.get, f"{running.base_url}/search", params={"q": "one"})
            time.sleep(0.5)  # the first query now waits for the model
            refused = httpx.get(f"{running.base_url}/search", params={"q": "two"})
            embedder.gate.set()
            assert first.result().status_code == 200
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        assert "waiting for the model" in refused.json()["detail"]


def test_connections_held_open_cost_a_bounded_amount(tmp_path) -> None:
    """Clients that send half their headers and wait hold their connections; past
    NEWSQA_MAX_CONNECTIONS a new request is a 503 at once rather than one more held, and
    the service answers again as soon as they let go."""
    index = IndexSettings(index_dir=tmp_path / "index")
    build_index([SEEDS], index, FakeEmbedder(), progress=False)
    settings = ServiceSettings(index_dir=index.index_dir, port=free_port(), max_connections=4)
    for server in serve(settings, FakeEmbedder()):
        address = urlsplit(server.base_url)
        held = [socket.create_connection((address.hostname, address.port)) for _ in range(4)]
        try:
            for sock in held:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never ended
            time.sleep(0.2)
            began = time.monotonic()
            refused = httpx.get(f"{server.base_url}/health", timeout=10)
            assert refused.status_code == 503 and time.monotonic() - began < 2
        finally:
            for sock in held:
                sock.close()
        time.sleep(0.2)
        assert httpx.get(f"{server.base_url}/health").status_code == 200


def test_oversized_headers_are_a_431_before_any_work(fake_server: RunningServer) -> None:
    big = {"X-Padding": "a" * 20_000}
    refused = httpx.get(f"{fake_server.base_url}/search", params={"q": "deal"}, headers=big)
    assert refused.status_code == 431
    assert "NEWSQA_MAX_HEADER_BYTES" in refused.json()["detail"]
    fine = {"X-Padding": "a" * 8_000}
    assert httpx.get(
        f"{fake_server.base_url}/search", params={"q": "deal"}, headers=fine
    ).is_success
