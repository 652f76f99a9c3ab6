"""Running the real app in-process, for tests and benchmarks: a free loopback port and a real
uvicorn server on it in a thread (the way Starlette ships its ``TestClient`` with the library)."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from indexer import Embedder
from service.api.app import create_app
from service.api.limits import server_limits
from service.settings import ServiceSettings

STARTUP_SECONDS = 60


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(settings: ServiceSettings, embedder: Embedder) -> Iterator[str]:
    """The real app under uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    config = uvicorn.Config(
        create_app(settings, embedder=embedder),
        host="127.0.0.1",
        port=settings.port,
        log_level="warning",
        **server_limits(settings),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the server on port {settings.port} did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
