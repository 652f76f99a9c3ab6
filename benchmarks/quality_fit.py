"""Fit the fusion weights and the abstention threshold on data (the answer-sentence weights:
``benchmarks.answer_fit``).

``python -m benchmarks.quality_fit [CORPUS QUERIES QRELS] [--target-words N ...]``

Runs in-process (no HTTP) over the same ``Searcher.signals`` and ``SentenceScorer`` the
service uses, so that hundreds of weight combinations can be compared in seconds. The
answerable questions are split in two halves by a hash of their id: weights are chosen on the
"fit" half and reported on both, so a choice that only memorises questions shows up as a gap.
The chosen values live as defaults in service/engine/search.py and service/engine/answer.py;
the final figures come from ``python -m benchmarks.evaluate`` through HTTP (``make bench-quality``).
"""

import argparse
import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.evaluate import cached_index
from benchmarks.questions import (
    SQUAD,
    Question,
    load_questions,
    off_topic_questions,
)
from indexer import IndexStore, SentenceTransformerEmbedder
from service.engine.answer import agreement
from service.engine.query import SearchQuery
from service.engine.search import DEFAULT_WEIGHTS, Searcher
from service.engine.signals import Signals
from service.settings import ServiceSettings

DATA = SQUAD
OFF_TOPIC = Path(__file__).resolve().parent / "offtopic_questions.txt"
SIGNALS = ("dense_passage", "dense_sentence", "lexical_passage", "coverage")
RRF_K = 60


@dataclass(slots=True)
class Case:
    question: Question
    signals: Signals
    features: np.ndarray
    """(candidates, signals) matrix, columns in ``SIGNALS`` order."""
    docs: list[str]
    fit: bool


def simplex(parts: int, step: float) -> list[tuple[float, ...]]:
    """Every weight vector of ``parts`` non-negative multiples of ``step`` summing to 1."""
    units = round(1 / step)
    return [
        tuple(c * step for c in combo)
        for combo in itertools.product(range(units + 1), repeat=parts)
        if sum(combo) == units
    ]


def doc_ranks(case: Case, scores: np.ndarray) -> dict[str, int]:
    """Document rank (1-based) by the best score of any of its passages."""
    best: dict[str, float] = {}
    for doc, score in zip(case.docs, scores, strict=True):
        if doc not in best or score > best[doc]:
            best[doc] = float(score)
    order = sorted(best, key=lambda d: -best[d])
    return {doc: rank for rank, doc in enumerate(order, start=1)}


def retrieval_figures(cases: Sequence[Case], score) -> tuple[float, float, float]:
    """hit@1, hit@5 and MRR@10 of a scoring function over cases."""
    hits1 = hits5 = mrr = 0.0
    for case in cases:
        ranks = doc_ranks(case, score(case))
        rank = min((ranks.get(d, 10**6) for d in case.question.relevant), default=10**6)
        hits1 += rank == 1
        hits5 += rank <= 5
        mrr += 1 / rank if rank <= 10 else 0
    n = max(len(cases), 1)
    return hits1 / n, hits5 / n, mrr / n


def rrf(case: Case, columns: Sequence[int]) -> np.ndarray:
    total = np.zeros(len(case.docs))
    for column in columns:
        order = np.argsort(-case.features[:, column], kind="stable")
        ranks = np.empty(len(order))
        ranks[order] = np.arange(1, len(order) + 1)
        total += 1 / (RRF_K + ranks)
    return total


def fusion_table(cases: Sequence[Case]) -> np.ndarray:
    fit = [c for c in cases if c.fit]
    check = [c for c in cases if not c.fit]
    rows: list[tuple[str, Sequence[Case], object]] = []
    print("\n## Fusion (document level; fit half / check half)\n")
    print(
        "| method | fit hit@1 | fit hit@5 | fit MRR@10 | check hit@1 | check hit@5 | check MRR@10 |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")

    def show(name: str, score) -> tuple[float, float, float]:
        a = retrieval_figures(fit, score)
        b = retrieval_figures(check, score)
        print(f"| {name} | " + " | ".join(f"{x:.3f}" for x in (*a, *b)) + " |")
        return a

    for column, name in enumerate(SIGNALS):
        show(name, lambda c, i=column: c.features[:, i])
    show("RRF dense+lexical passage", lambda c: rrf(c, [0, 2]))
    show("RRF all four", lambda c: rrf(c, range(len(SIGNALS))))
    weights = np.array(simplex(len(SIGNALS), 0.1))
    best_key, best_w = (-1.0, -1.0), weights[0]
    for w in weights:
        h1, _, mrr = retrieval_figures(fit, lambda c, w=w: c.features @ w)
        if (h1, mrr) > best_key:
            best_key, best_w = (h1, mrr), w
    show("weighted, fitted " + "/".join(f"{x:.1f}" for x in best_w), lambda c: c.features @ best_w)
    current = np.array([getattr(DEFAULT_WEIGHTS, s) for s in SIGNALS])
    show("weighted, current default", lambda c: c.features @ current)
    del rows
    return np.asarray(best_w)


def confidence_table(cases: Sequence[Case], off_topic: Sequence[Case], searcher: Searcher) -> None:
    """Answered / abstained shares for a range of thresholds, per confidence blend."""
    groups: dict[str, list[tuple[float, float]]] = {
        "answerable": [],
        "unanswerable": [],
        "off-topic": [],
    }
    for case in [*cases, *off_topic]:
        hits = searcher.rank(case.signals, 5)
        found = searcher.scorer.candidates_of([hit.passage for hit in hits], case.signals)
        shares = agreement(found, [hit.passage.document.doc_id for hit in hits])
        rank = max(range(len(hits)), key=lambda r: hits[r].highlight_score)
        i = searcher.scorer.best(found[rank], hits[rank].score, rank, shares[rank]).row
        dense, covered = float(found[rank].dense[i]), float(found[rank].coverage[i])
        if case.question.query_id.startswith("off-topic-"):
            groups["off-topic"].append((dense, covered))
        else:
            groups["answerable" if case.question.answerable else "unanswerable"].append(
                (dense, covered)
            )
    print("\n## Abstention (share answered; confidence = a*cosine + (1-a)*coverage)\n")
    for blend in (0.3, 0.5, 0.7, 1.0):
        values = {
            g: np.array([blend * d + (1 - blend) * c for d, c in pairs])
            for g, pairs in groups.items()
        }
        print(f"\na = {blend}: off-topic max {values['off-topic'].max():.3f}\n")
        print("| threshold | answerable answered | unanswerable abstained | off-topic abstained |")
        print("| ---: | ---: | ---: | ---: |")
        for threshold in np.arange(0.20, 0.66, 0.05):
            print(
                f"| {threshold:.2f} | {np.mean(values['answerable'] >= threshold):.3f} "
                f"| {np.mean(values['unanswerable'] < threshold):.3f} "
                f"| {np.mean(values['off-topic'] < threshold):.3f} |"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality_fit", description=__doc__)
    parser.add_argument("corpus", type=Path, nargs="?", default=DATA / "corpus.jsonl")
    parser.add_argument("queries", type=Path, nargs="?", default=DATA / "queries.jsonl")
    parser.add_argument("qrels", type=Path, nargs="?", default=DATA / "qrels" / "test.tsv")
    parser.add_argument("--target-words", type=int)
    parser.add_argument("--max-words", type=int)
    parser.add_argument("--overlap-sentences", type=int)
    args = parser.parse_args(argv)
    overrides = {
        k: v
        for k, v in vars(args).items()
        if k in ("target_words", "max_words", "overlap_sentences") and v is not None
    }
    settings = ServiceSettings(**overrides)
    embedder = SentenceTransformerEmbedder(settings.model_path, settings.model_name)
    index_dir = cached_index(args.corpus, settings, embedder)
    snapshot = IndexStore(index_dir).open(embedder.name, embedder.dimension)
    searcher = Searcher(snapshot, embedder)
    print(
        f"chunking target/max/overlap = {settings.target_words}/{settings.max_words}/"
        f"{settings.overlap_sentences}: {len(snapshot.passages)} passages"
    )

    def case(question: Question) -> Case:
        signals = searcher.signals(SearchQuery(question.text, 50))
        assert signals is not None
        features = np.stack([getattr(signals, s) for s in SIGNALS], axis=1)
        docs = [snapshot.passage(int(p)).document.doc_id for p in signals.passage_ids]
        fit = hashlib.sha256(question.query_id.encode()).digest()[0] % 2 == 0
        return Case(question, signals, features, docs, fit)

    questions = load_questions(args.queries, args.qrels)
    cases = [case(q) for q in questions]
    off_topic = [case(q) for q in off_topic_questions(OFF_TOPIC)]
    answerable = [c for c in cases if c.question.answerable and c.question.relevant]
    print(f"{len(answerable)} answerable ({sum(c.fit for c in answerable)} in the fit half)")
    fusion_table(answerable)
    confidence_table(cases, off_topic, searcher)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
