"""Is this tree's service faster or slower than another revision's, measured the same minute?

``python -m benchmarks.ab REV [--rounds 6]``

This machine's speed drifts by a quarter from one run to the next, more than most changes
move it, so a change is timed against its base side by side: the SQuAD sample's index is
served from this tree and from ``REV`` (checked out into a temporary git worktree), both at
once, from one index that ``REV``'s indexer builds (newer code reads older formats, not the
other way round), idle but for the one being measured. In
alternating rounds (each side first in every other round), each side gets the same questions
it has not seen before (so every query is encoded, as a user's would be; with ``--cached``,
questions whose vectors it has cached, to time the rest of a request): the p50 of ``GET
/search`` at one client, and the requests/s with 8 clients. Prints the medians over rounds and
their ratios.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from benchmarks.questions import SQUAD, load_questions, require_beir
from benchmarks.speed import REPO, free_port, latencies_at_one, load, start_service

P50_QUESTIONS = 100
LOAD_QUESTIONS = 130


def squad_questions() -> list[str]:
    require_beir(SQUAD)
    return [q.text for q in load_questions(SQUAD / "queries.jsonl", SQUAD / "qrels" / "test.tsv")]


def build_with(tree: Path, index_dir: Path) -> None:
    """The SQuAD sample's index, built by the indexer of the checkout ``tree``."""
    subprocess.run(
        [sys.executable, "-m", "indexer", str(SQUAD / "corpus.jsonl"), "--index-dir",
         str(index_dir), "-q"],
        check=True, cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)},
    )  # fmt: skip


def alternate(
    ports: dict[str, int], rounds: int, questions: Callable[[int], tuple[list[str], list[str]]]
) -> dict[str, tuple[float, float]]:
    """Per side, the medians over ``rounds`` of p50 ms at one client and requests/s with 8;
    ``questions(round)`` gives that round's questions for each (p50, load)."""
    p50: dict[str, list[float]] = {side: [] for side in ports}
    rps: dict[str, list[float]] = {side: [] for side in ports}
    for number in range(rounds):
        one, many = questions(number)
        for side in list(ports) if number % 2 else list(reversed(ports)):
            p50[side].append(statistics.median(latencies_at_one(ports[side], one)) * 1000)
            rps[side].append(load(ports[side], many, 8)[0])
    return {side: (statistics.median(p50[side]), statistics.median(rps[side])) for side in ports}


def print_table(title: str, figures: dict[str, tuple[float, float]]) -> None:
    (new, (new_p50, new_rps)), (old, (old_p50, old_rps)) = figures.items()
    print(f"\n{title}\n")
    print(f"| figure | {new} | {old} | {new} / {old} |")
    print("| --- | ---: | ---: | ---: |")
    ratio = new_p50 / old_p50
    print(f"| GET /search p50 ms, 1 client | {new_p50:.2f} | {old_p50:.2f} | {ratio:.3f} |")
    print(f"| requests/s, 8 clients | {new_rps:.1f} | {old_rps:.1f} | {new_rps / old_rps:.3f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ab", description=__doc__)
    parser.add_argument("rev", help="the git revision to compare this tree with")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument(
        "--cached",
        action="store_true",
        help="encode every question once first, and time the rest of a request only",
    )
    options = parser.parse_args(argv)
    questions = squad_questions()
    per_round = P50_QUESTIONS + LOAD_QUESTIONS
    if not options.cached and options.rounds * per_round > len(questions):
        parser.error(f"at most {len(questions) // per_round} rounds of distinct questions")
    with tempfile.TemporaryDirectory(prefix="newsqa-ab-") as scratch:
        base = Path(scratch) / "base"
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(base), options.rev],
            check=True,
        )
        index_dir = Path(scratch) / "index"
        build_with(base, index_dir)
        trees = {"this tree": REPO, options.rev: base}
        ports = {side: free_port() for side in trees}
        processes = []
        try:
            for side, tree in trees.items():
                env = {**os.environ, "PYTHONPATH": str(tree), "NEWSQA_QUERY_CACHE_SIZE": "4096"}
                command = [sys.executable, "-m", "service", "--index-dir", str(index_dir)]
                processes.append(
                    start_service(index_dir, ports[side], env, command=command, cwd=tree)[0]
                )

            def round_questions(number: int) -> tuple[list[str], list[str]]:
                if options.cached:
                    return questions[:300], questions[300:1300]
                chunk = questions[number * per_round : (number + 1) * per_round]
                return chunk[:P50_QUESTIONS], chunk[P50_QUESTIONS:]

            if options.cached:
                for port in ports.values():
                    load(port, questions, 8)  # every query vector cached, not measured

            figures = alternate(ports, options.rounds, round_questions)
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=30)
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(base)])
    print_table(
        f"{options.rounds} alternating rounds, SQuAD sample index, distinct questions", figures
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
