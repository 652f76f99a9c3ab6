"""``make bench-news``: answer quality on real news, through the real HTTP API.

The dev sets are real news-quiz questions with the pages a web search returned for them that
week (RealTime QA), built by ``../shared/tools/news_devset.py`` into ``data/news-<year>``:
tune on 2023, check that a setting generalises on 2024 (the other years are kept for checks
nobody tuned on: do not build them). Each set is indexed (cached in the temp folder), served,
and every question asked over HTTP in each retrieval mode; printed per set and mode:

- document hit@5 and nDCG@10 against the pages that contain the correct choice (a weak label);
- answer@5: the correct choice occurs in one of the top-5 ``/search`` passages;
- answer: it occurs in ``/ask``'s ``answer.text`` (the one best sentence), answered or not
  decided by the service's threshold; answer with parts: in the text or its parts;
- the share answered, and latency;

then, for hybrid retrieval, the risk-coverage curve and the reliability of ``confidence``.

    python -m benchmarks.news [--sets data/news-2023 data/news-2024] [--modes ...] [--limit N]
"""

import argparse
import logging
import sys
from pathlib import Path
from typing import cast, get_args

from benchmarks.curves import reliability, risk_coverage
from benchmarks.evaluate import markdown_table, run_modes, summarize
from benchmarks.questions import load_questions
from indexer import make_embedder
from service.engine.query import RetrievalMode
from service.settings import ServiceSettings

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SETS = (REPO / "data" / "news-2023", REPO / "data" / "news-2024")
BUILD_HINT = (
    "build it with: python3 ../shared/tools/news_devset.py <git dir of "
    "github:realtimeqa/realtimeqa_public> {path} --year {year}"
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.news", description=__doc__)
    parser.add_argument("--sets", nargs="+", type=Path, default=list(DEFAULT_SETS))
    parser.add_argument("--modes", default="dense,lexical,hybrid", help="comma-separated")
    parser.add_argument("--limit", type=int, help="only the first N questions of each set")
    parser.add_argument(
        "--recency",
        default="mild,strong,7",
        help="hybrid runs again with each of these recency preferences (comma-separated)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    modes = [cast(RetrievalMode, m.strip()) for m in args.modes.split(",") if m.strip()]
    if bad := [m for m in modes if m not in get_args(RetrievalMode)]:
        print(f"error: unknown mode(s) {', '.join(bad)}", file=sys.stderr)
        return 2
    missing = [path for path in args.sets if not (path / "corpus.jsonl").is_file()]
    for path in missing:
        year = path.name.rsplit("-", 1)[-1]
        print(f"error: no dev set in {path}; {BUILD_HINT.format(path=path, year=year)}")
    if missing:
        return 1
    settings = ServiceSettings(**{})
    embedder = make_embedder(settings)
    for path in args.sets:
        questions = load_questions(path / "queries.jsonl", path / "qrels" / "dev.tsv")
        questions = questions[: args.limit]
        recencies = [r.strip() for r in args.recency.split(",") if r.strip()]
        runs = run_modes(
            path / "corpus.jsonl", questions, modes, settings, embedder, recencies=recencies
        )
        abstention = settings.abstention()
        reports = [summarize(mode, outcomes, abstention) for mode, outcomes in runs]
        print(f"\n### {path.name}: {len(questions)} questions, {abstention}\n")
        print(markdown_table(reports))
        for mode, outcomes in runs:
            if mode == "hybrid":
                curve = risk_coverage(outcomes, abstention)
                print(f"\nRisk-coverage ({path.name}, hybrid):\n\n{curve}")
                print(f"\nReliability ({path.name}, hybrid):\n\n{reliability(outcomes)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
