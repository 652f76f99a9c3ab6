"""``python -m service [--index-dir DIR] [--host H] [--port P] [--workers N | --ray ADDRESS
[--replicas R]] [--log-format text|json] [--watch [PATH ...]]``: serve."""

import argparse
import json
import logging.config
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

import uvicorn
from fastapi import FastAPI

from indexer.errors import IndexerError
from indexer.settings import load_settings
from indexer.terminal import exit_now
from service.api.app import create_app
from service.api.limits import server_limits
from service.engine.metrics import MULTIPROCESS_VARIABLE
from service.logs import logging_config
from service.settings import ServiceSettings

OVERRIDES_VARIABLE = "NEWSQA_WORKER_OVERRIDES"
"""How the command line's settings reach the worker processes (internal)."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m service",
        description="Answer questions over the indexed articles, over HTTP (OpenAPI at /docs).",
    )
    parser.add_argument("--index-dir", type=Path, help="index folder (default: index/)")
    parser.add_argument("--host", help="interface to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: 8000)")
    parser.add_argument(
        "--workers", type=int, help="server processes sharing the port (default: 1)"
    )
    parser.add_argument(
        "--log-format",
        choices=["text", "json"],
        help="log lines as readable text (default) or JSON objects",
    )
    parser.add_argument(
        "--watch",
        nargs="*",
        type=Path,
        metavar="PATH",
        help=(
            "reindex these folders or files into --index-dir whenever they change (no PATH: "
            "seeds/); builds the index first if there is none"
        ),
    )
    parser.add_argument(
        "--ray",
        metavar="ADDRESS",
        help=(
            "serve replicas through Ray Serve on this cluster: 'local' (start one here), "
            "'auto' or ray://host:port; needs the ray extra"
        ),
    )
    parser.add_argument(
        "--replicas", type=int, help="with --ray: replicas of the searcher (default: 2)"
    )
    args = parser.parse_args(argv)
    if args.replicas is not None and not args.ray:
        parser.error("--replicas needs --ray")
    if args.ray and args.workers:
        parser.error("--workers and --ray are two ways to scale: choose one")
    if args.replicas is not None and args.replicas < 1:
        parser.error("--replicas must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cluster = {"ray", "replicas"}
    overrides = {
        k: v for k, v in vars(args).items() if v is not None and k != "watch" and k not in cluster
    }
    if args.watch is not None:
        overrides["watch"] = True
        if args.watch:
            overrides["sources"] = args.watch
    try:
        settings = load_settings(ServiceSettings, **overrides)
    except IndexerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    log_config = logging_config(settings.log_format)
    logging.config.dictConfig(log_config)
    serve = partial(
        uvicorn.run,
        host=settings.host,
        port=settings.port,
        log_config=log_config,
        access_log=False,  # service/api/telemetry.py logs each request, with its id
        **server_limits(settings),
    )
    try:
        if args.ray:
            return _serve_on_ray(settings, args.ray, args.replicas or 2)
        if settings.workers == 1:
            serve(create_app(settings))
        else:
            _serve_workers(settings, overrides, serve)
    except SystemExit as exc:  # uvicorn could not start (a port in use): its log says why
        return exc.code if isinstance(exc.code, int) else 1
    return 0


def _serve_workers(
    settings: ServiceSettings, overrides: dict[str, Any], serve: Callable[..., None]
) -> None:
    """``serve`` as ``settings.workers`` processes (uvicorn's supervisor and its workers)."""
    if not settings.threads:  # the cores are shared out between the workers, not multiplied
        overrides["threads"] = max(1, (os.cpu_count() or 1) // settings.workers)
    # uvicorn starts each worker as a fresh interpreter, which builds the same settings from the
    # same environment plus this command line's overrides.
    os.environ[OVERRIDES_VARIABLE] = json.dumps(overrides, default=str)
    # The workers count into files of one folder, which a scrape of any of them adds up.
    with tempfile.TemporaryDirectory(prefix="newsqa-metrics-") as counts:
        os.environ.setdefault(MULTIPROCESS_VARIABLE, counts)
        serve("service.__main__:worker_app", factory=True, workers=settings.workers)


def _serve_on_ray(settings: ServiceSettings, address: str, replicas: int) -> int:
    """Serve through Ray Serve (``service/replicas.py``) until interrupted."""
    from service.replicas import start_replicas, stop_replicas

    try:
        start_replicas(settings, address, replicas)
    except IndexerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"serving {replicas} replicas on http://{settings.host}:{settings.port} (Ray Serve); "
        "Ctrl-C stops them",
        flush=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop_replicas()
    return 0


def worker_app() -> FastAPI:
    """The app of one of ``--workers`` processes."""
    overrides = json.loads(os.environ.get(OVERRIDES_VARIABLE, "{}"))
    return create_app(load_settings(ServiceSettings, **overrides))


def run() -> NoReturn:
    """The console script's entry point: ``main``, then ``exit_now``."""
    exit_now(main())


if __name__ == "__main__":
    run()
