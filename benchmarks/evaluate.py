"""``python -m benchmarks.evaluate CORPUS.jsonl QUERIES.jsonl QRELS.tsv``: answer quality, measured
through the real HTTP API.

Builds (or reuses) an index of the corpus in a cache folder outside the repository, serves it
with the real app on 127.0.0.1 (a free port), asks every question over HTTP and prints:

- retrieval, document level (the first occurrence of each document id in ``/search``):
  hit@1, hit@5, MRR@10, nDCG@10 over the questions that have a relevant document;
- answers (``/ask``): the share of answerable questions whose answer sentence contains a gold
  answer (``metadata.answers``), the share answered at all, and abstention precision/recall
  where "unanswerable" means ``metadata.answerable`` is false or the question is off-topic
  (``--off-topic FILE``, one question a line, all expected to abstain);
- latency percentiles of both endpoints.

Data is BEIR-shaped (corpus ``{"_id", "title", "text"}``, queries ``{"_id", "text",
"metadata"}``, qrels ``query-id corpus-id score``), as in ``../shared/data/squad2-dev-sample``.
"""

import argparse
import hashlib
import logging
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast, get_args

import httpx
from tqdm import tqdm

from benchmarks.curves import reliability, risk_coverage
from benchmarks.questions import (
    ALWAYS_ANSWER,
    Outcome,
    Question,
    answer_contains_gold,
    load_questions,
    off_topic_questions,
)
from indexer import (
    Embedder,
    IndexSettings,
    IndexStore,
    build_index,
    chunking,
    cleaning,
    documents,
    lexical,
    make_embedder,
    sentences,
    stories,
)
from indexer.embedding import base, onnx, onnx_export, torch
from indexer.errors import IndexerError
from indexer.snapshot import FORMAT_VERSION
from service.engine.answer import Abstention
from service.engine.query import RetrievalMode
from service.settings import ServiceSettings
from service.testing import free_port, running_server

SEARCH_K = 10
TOP_PASSAGES = 5
# The code that shapes an index's vectors: a change to any of it invalidates cached indexes.
EMBEDDING_MODULES = (base, onnx, onnx_export, torch)
ASK_K = 5


@dataclass(slots=True)
class Report:
    """The figures of one evaluation run."""

    mode: str
    figures: dict[str, float] = field(default_factory=dict)


def cached_index(
    corpus: Path, settings: IndexSettings, embedder: Embedder, cache: Path | None = None
) -> Path:
    """An index of ``corpus`` in the temp folder, rebuilt only when the corpus, the settings or
    the code that shapes an index (cleaning, sentence splitting, chunking, tokenization,
    embedding) changed."""
    recipe = hashlib.sha256(corpus.read_bytes())
    for module in (cleaning, documents, sentences, chunking, lexical, stories, *EMBEDDING_MODULES):
        recipe.update(Path(module.__file__ or "").read_bytes())
    # int8 activations are quantized per batch, so the batch size moves vectors a little too.
    recipe.update(
        f"{FORMAT_VERSION}:{embedder.name}:{getattr(embedder, 'backend', '')}:"
        f"{settings.batch_size}:{settings.target_words}:{settings.max_words}:"
        f"{settings.overlap_sentences}:{settings.passage_vectors}".encode()
    )
    cache = Path(tempfile.gettempdir()) if cache is None else cache
    index_dir = cache / f"newsqa-eval-{recipe.hexdigest()[:16]}"
    store = IndexStore(index_dir)
    try:
        store.open(embedder.name, embedder.dimension)
    except IndexerError:
        build_index([corpus], settings.model_copy(update={"index_dir": index_dir}), embedder)
    return index_dir


def ask_all(
    base_url: str, questions: Sequence[Question], recency: str | None = None
) -> list[Outcome]:
    """Every question over HTTP (``/search`` and ``/ask``), asked at its own date if it has
    one, with ``recency`` if given."""
    outcomes = []
    prefer = {"recency": recency} if recency else {}
    progress = tqdm(questions, desc="questions", unit="q", disable=not sys.stderr.isatty())
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for question in progress:
            began = time.perf_counter()
            when = {"now": question.moment(), **prefer} if question.moment() else prefer
            search = client.get("/search", params={"q": question.text, "k": SEARCH_K, **when})
            search.raise_for_status()
            middle = time.perf_counter()
            ask = client.get("/ask", params={"q": question.text, "k": ASK_K, **when})
            ask.raise_for_status()
            ended = time.perf_counter()
            answer = ask.json()["answer"]
            results = search.json()["results"]
            outcomes.append(
                Outcome(
                    question=question,
                    ranked_docs=first_occurrences(r["citation"]["doc_id"] for r in results),
                    top_passages=tuple(r["text"] for r in results[:TOP_PASSAGES]),
                    answer=answer["text"] if answer else None,
                    parts=" ".join(p["text"] for p in answer["parts"]) if answer else None,
                    score=answer["score"] if answer else -1.0,
                    confidence=answer["confidence"] if answer else 0.0,
                    search_ms=(middle - began) * 1000,
                    ask_ms=(ended - middle) * 1000,
                )
            )
    return outcomes


def first_occurrences(doc_ids: Iterator[str] | Sequence[str]) -> list[str]:
    """Document ids in rank order, each once (its first, best-ranked occurrence)."""
    return list(dict.fromkeys(doc_ids))


def reciprocal_rank(ranked: Sequence[str], relevant: frozenset[str], depth: int = 10) -> float:
    for rank, doc_id in enumerate(ranked[:depth], start=1):
        if doc_id in relevant:
            return 1.0 / rank
    return 0.0


def ndcg(ranked: Sequence[str], relevant: frozenset[str], depth: int = 10) -> float:
    gain = sum(
        1.0 / math.log2(rank + 1)
        for rank, doc_id in enumerate(ranked[:depth], start=1)
        if doc_id in relevant
    )
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(relevant), depth) + 1))
    return gain / ideal if ideal else 0.0


def summarize(mode: str, outcomes: Sequence[Outcome], abstention: Abstention) -> Report:
    """Every figure the harness prints, from the outcomes of one run, answering where
    ``abstention`` (the service's, from its settings) would."""
    report = Report(mode)
    retrieval = [o for o in outcomes if o.question.relevant and o.question.answerable]
    if retrieval:
        report.figures["hit@1"] = _mean(
            bool(o.question.relevant & set(o.ranked_docs[:1])) for o in retrieval
        )
        report.figures["hit@5"] = _mean(
            bool(o.question.relevant & set(o.ranked_docs[:5])) for o in retrieval
        )
        report.figures["MRR@10"] = _mean(
            reciprocal_rank(o.ranked_docs, o.question.relevant) for o in retrieval
        )
        report.figures["nDCG@10"] = _mean(
            ndcg(o.ranked_docs, o.question.relevant) for o in retrieval
        )
    answerable = [o for o in outcomes if o.question.answerable]
    with_gold = [o for o in answerable if o.question.answers]
    if with_gold:
        gold = [o.question.answers for o in with_gold]
        report.figures["answer@5"] = _mean(
            any(answer_contains_gold(text, g) for text in o.top_passages)
            for o, g in zip(with_gold, gold, strict=True)
        )
        report.figures["answer accuracy"] = _mean(o.correct(abstention) for o in with_gold)
        report.figures["answer with parts"] = _mean(
            o.answered(abstention) and answer_contains_gold(o.parts, g)
            for o, g in zip(with_gold, gold, strict=True)
        )
    if answerable:
        report.figures["answered (answerable)"] = _mean(o.answered(abstention) for o in answerable)
    unanswerable = [o for o in outcomes if not o.question.answerable]
    abstained = [o for o in outcomes if not o.answered(abstention)]
    if unanswerable:
        report.figures["abstention recall"] = _mean(
            not o.answered(abstention) for o in unanswerable
        )
    if abstained:
        report.figures["abstention precision"] = _mean(not o.question.answerable for o in abstained)
    off_topic = [o for o in outcomes if o.question.query_id.startswith("off-topic-")]
    if off_topic:
        report.figures["off-topic abstained"] = _mean(not o.answered(abstention) for o in off_topic)
    for name, values in (
        ("search", [o.search_ms for o in outcomes]),
        ("ask", [o.ask_ms for o in outcomes]),
    ):
        if len(values) >= 2:
            cuts = statistics.quantiles(values, n=20)
            report.figures[f"{name} p50 ms"] = statistics.median(values)
            report.figures[f"{name} p95 ms"] = cuts[18]
    return report


def _mean(values: Iterator[bool | float] | Sequence[bool | float]) -> float:
    items = [float(v) for v in values]
    return sum(items) / len(items) if items else 0.0


def evaluate(
    corpus: Path,
    questions: Sequence[Question],
    modes: Sequence[RetrievalMode],
    settings: ServiceSettings,
    embedder: Embedder,
    cache: Path | None = None,
) -> list[Report]:
    """Index the corpus (or reuse its cached index under ``cache``, default the temp folder),
    then run every mode through HTTP."""
    return [
        summarize(mode, outcomes, settings.abstention())
        for mode, outcomes in run_modes(corpus, questions, modes, settings, embedder, cache)
    ]


def run_modes(
    corpus: Path,
    questions: Sequence[Question],
    modes: Sequence[RetrievalMode],
    settings: ServiceSettings,
    embedder: Embedder,
    cache: Path | None = None,
    recencies: Sequence[str] = (),
) -> list[tuple[str, list[Outcome]]]:
    """The outcomes of every question in every mode, served without a threshold (so that any
    threshold can be applied afterwards: it decides only whether to answer, never what); and
    in hybrid mode with each of ``recencies`` too, labelled ``hybrid, recency R``."""
    index_dir = cached_index(corpus, settings, embedder, cache)
    runs: list[tuple[str, list[Outcome]]] = []
    for mode in modes:
        served = settings.model_copy(
            update={
                "index_dir": index_dir,
                "retrieval_mode": mode,
                "port": free_port(),
                "min_answer_score": ALWAYS_ANSWER.min_evidence,
                "min_answer_confidence": ALWAYS_ANSWER.min_confidence,
            }
        )
        with running_server(served, embedder) as base_url:
            runs.append((mode, ask_all(base_url, questions)))
            for recency in recencies if mode == "hybrid" else ():
                runs.append((f"hybrid, recency {recency}", ask_all(base_url, questions, recency)))
    return runs


def markdown_table(reports: Sequence[Report]) -> str:
    names = list(dict.fromkeys(name for r in reports for name in r.figures))
    lines = [
        "| figure | " + " | ".join(r.mode for r in reports) + " |",
        "| --- |" + " ---: |" * len(reports),
    ]
    for name in names:
        cells = [f"{r.figures[name]:.3f}" if name in r.figures else "" for r in reports]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.evaluate",
        description=(
            "Measure retrieval and answer quality of the real HTTP API on a BEIR-style "
            "dataset (corpus, queries with metadata.answers/answerable, qrels)."
        ),
    )
    parser.add_argument("corpus", type=Path, help="corpus.jsonl ({_id, title, text} a line)")
    parser.add_argument("queries", type=Path, help="queries.jsonl ({_id, text, metadata})")
    parser.add_argument("qrels", type=Path, help="qrels TSV (query-id, corpus-id, score)")
    parser.add_argument(
        "--modes",
        default="hybrid",
        help="comma-separated retrieval modes to compare: hybrid,dense,lexical",
    )
    parser.add_argument(
        "--off-topic", type=Path, help="file of off-topic questions (one a line): must abstain"
    )
    parser.add_argument("--limit", type=int, help="only the first N questions (quick looks)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    names = [m.strip() for m in args.modes.split(",") if m.strip()]
    modes = [cast(RetrievalMode, m) for m in names if m in get_args(RetrievalMode)]
    bad = sorted(set(names) - set(modes))
    if bad:
        print(f"error: unknown mode(s) {', '.join(bad)}", file=sys.stderr)
        return 2
    if missing := [
        str(path) for path in (args.corpus, args.queries, args.qrels) if not path.is_file()
    ]:
        print(f"error: no such file: {', '.join(missing)}", file=sys.stderr)
        return 1
    questions = load_questions(args.queries, args.qrels)[: args.limit]
    if args.off_topic:
        questions += off_topic_questions(args.off_topic)
    # Settings come from the environment (NEWSQA_*), like the service's own.
    settings = ServiceSettings(**{})
    embedder = make_embedder(settings)
    runs = run_modes(args.corpus, questions, modes, settings, embedder)
    reports = [summarize(mode, outcomes, settings.abstention()) for mode, outcomes in runs]
    print(f"{len(questions)} questions, corpus {args.corpus}")
    print(markdown_table(reports))
    for mode, outcomes in runs:
        if mode == "hybrid":
            curve = risk_coverage(outcomes, settings.abstention())
            print(f"\nRisk-coverage (hybrid):\n\n{curve}")
            print(f"\nReliability (hybrid):\n\n{reliability(outcomes)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
