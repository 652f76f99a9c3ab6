"""Does the GET fast path (``service/api/fast_path.py``) still pay for itself?

``python -m benchmarks.fast_path [--rounds 6]``

Serves the SQuAD sample's index twice, as ``python -m service`` does: once as shipped and once
with the fast-path middleware left out (``--serve-plain``, this module run as the server),
both on this machine at the same time, idle but for the one being measured. Every question is
asked once first so that both have its vector cached: what remains is HTTP, routing, search and
serialization, the part the fast path takes a share of. Then, in alternating rounds (each side
first in every other round, as the machine's speed drifts), the p50 of ``GET /search`` at one
client and the requests/s with 8 clients (``benchmarks.ab``). Prints the medians over rounds
and their ratios.
"""

import argparse
import os
import runpy
import subprocess
import sys
from pathlib import Path

from benchmarks.ab import alternate, print_table, squad_questions
from benchmarks.evaluate import cached_index
from benchmarks.questions import SQUAD
from benchmarks.speed import REPO, free_port, load, start_service
from indexer import make_embedder
from service.settings import ServiceSettings


def serve_plain(argv: list[str]) -> int:
    """``python -m service`` without the fast-path middleware."""
    import service.api.app as app_module

    class PassThrough:
        def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
            self.app = app

        async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
            await self.app(scope, receive, send)

    app_module.QueryFastPath = PassThrough  # type: ignore[misc,assignment]
    sys.argv = ["python -m service", *argv]
    runpy.run_module("service", run_name="__main__", alter_sys=True)
    return 0


def start(index_dir: Path, plain: bool, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    port = free_port()
    if not plain:
        return start_service(index_dir, port, env)[0], port
    command = [sys.executable, "-m", "benchmarks.fast_path", "--serve-plain", "--index-dir"]
    return start_service(index_dir, port, env, command=[*command, str(index_dir)])[0], port


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--serve-plain"]:
        return serve_plain(args[1:])
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fast_path", description=__doc__)
    parser.add_argument("--rounds", type=int, default=6)
    options = parser.parse_args(args)
    questions = squad_questions()
    settings = ServiceSettings(**{})
    index_dir = cached_index(SQUAD / "corpus.jsonl", settings, make_embedder(settings))
    env = {**os.environ, "NEWSQA_QUERY_CACHE_SIZE": "4096", "PYTHONPATH": str(REPO)}
    servers = {side: start(index_dir, side == "plain", env) for side in ("fast path", "plain")}
    ports = {side: port for side, (_, port) in servers.items()}
    try:
        for port in ports.values():
            load(port, questions, 8)  # every query vector cached, not measured
        figures = alternate(ports, options.rounds, lambda _: (questions[:300], questions[300:1300]))
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=30)
    print_table(
        f"{options.rounds} alternating rounds, SQuAD sample index, query vectors cached", figures
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
