"""Fit the answer-sentence weights (``service/engine/answer.py``) on news and SQuAD together.

``python -m benchmarks.answer_fit [--fit data/news-2023 SQUAD] [--check data/news-2024]``

Also fits ``CALIBRATION``, the answer's confidence, on the first fit set (news-2023): a
logistic regression of "the answer sentence holds a gold answer" on ``answer_features``, with
the sentence weights in force.

Runs in-process over the same ``Searcher.rank`` and ``SentenceScorer`` features the service
uses. For every question, each sentence of the top ``ASK_K`` hits gets its feature row
(``SentenceCandidates.features``) and a label (it holds a gold answer); weights are fitted
by a listwise softmax (the probability of the gold sentences among a question's candidates),
then refined by coordinate ascent on the share of questions whose best sentence holds a gold
answer, news-2023's share and SQuAD's counting alike (weighting SQuAD 0.5 gained 1 point on
news-2023 and lost 2 on SQuAD's check half; 2.0 chose the same weights as 1.0). SQuAD
questions are split in two halves by a hash of their id: the fit uses news-2023 and one half,
and the figures on the other half and on news-2024 show whether the weights generalise. The
candidates depend a little on the weights in force (copies are dropped by their first-pass
highlights), so a refit starting from fitted weights moves them by noise. The chosen values
live as ``SENTENCE_WEIGHTS``; the final figures come through HTTP (``make bench-news``,
``make bench-quality``).
"""

import argparse
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from benchmarks.evaluate import ASK_K, cached_index
from benchmarks.questions import SQUAD, Question, answer_contains_gold, load_questions
from indexer import IndexStore, make_embedder
from service.engine.answer import (
    FEATURES,
    SENTENCE_WEIGHTS,
    Calibration,
    SentenceWeights,
    agreement,
    answer_features,
)
from service.engine.query import SearchQuery
from service.engine.search import Searcher
from service.engine.timewords import interpret
from service.settings import ServiceSettings

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Case:
    """One answerable question's candidate sentences: features and gold labels."""

    features: np.ndarray
    gold: np.ndarray


def qrels_of(folder: Path) -> Path:
    dev = folder / "qrels" / "dev.tsv"
    return dev if dev.is_file() else folder / "qrels" / "test.tsv"


def query_of(question: Question) -> SearchQuery:
    """The query ``/ask`` would run for ``question``, asked when it was (news sets)."""
    moment = question.moment()
    when = interpret(question.text, datetime.fromisoformat(moment)) if moment else None
    return SearchQuery(question.text, ASK_K, time_range=when)


def cases_of(searcher: Searcher, questions: Sequence[Question]) -> list[Case]:
    cases = []
    for question in questions:
        if not question.answers:
            continue
        signals = searcher.signals(query_of(question))
        hits = [] if signals is None else searcher.rank(signals, ASK_K)
        if signals is None or not hits:
            continue
        found = searcher.scorer.candidates_of([hit.passage for hit in hits], signals)
        shares = agreement(found, [hit.passage.document.doc_id for hit in hits])
        rows, gold = [], []
        for rank, (hit, sentences, share) in enumerate(zip(hits, found, shares, strict=True)):
            rows.append(sentences.features(hit.score, rank, share))
            text = hit.passage.document.text
            gold += [answer_contains_gold(text[a:b], question.answers) for a, b in sentences.spans]
        cases.append(Case(np.vstack(rows), np.array(gold)))
    return cases


def accuracy(cases: Sequence[Case], weights: np.ndarray) -> float:
    """The share of questions whose best-scored sentence holds a gold answer."""
    return float(np.mean([case.gold[int(np.argmax(case.features @ weights))] for case in cases]))


def listwise(cases: Sequence[Case], epochs: int = 400, rate: float = 0.5) -> np.ndarray:
    """Weights maximising the mean log-probability of a question's gold sentences under a
    softmax over its candidates (questions without a gold candidate teach nothing)."""
    usable = [case for case in cases if case.gold.any()]
    weights = np.zeros(len(FEATURES))
    for _ in range(epochs):
        gradient = np.zeros_like(weights)
        for case in usable:
            scores = case.features @ weights
            p = np.exp(scores - scores.max())
            p /= p.sum()
            target = p * case.gold
            target /= target.sum()
            gradient += case.features.T @ (target - p)
        weights += rate * (gradient / len(usable) - 1e-3 * weights)
    return weights


def refine(groups: Sequence[tuple[Sequence[Case], float]], weights: np.ndarray) -> np.ndarray:
    """Coordinate ascent from ``weights``, in shrinking steps, on the weighted sum of each
    group's ``accuracy``."""

    def objective(trial: np.ndarray) -> float:
        return sum(share * accuracy(cases, trial) for cases, share in groups)

    best, score = weights.copy(), objective(weights)
    for step in (0.5, 0.2, 0.1):
        improved = True
        while improved:
            improved = False
            for j in range(len(best)):
                for delta in (step, -step):
                    trial = best.copy()
                    trial[j] += delta
                    trial_score = objective(trial)
                    if trial_score > score + 1e-9:
                        best, score, improved = trial, trial_score, True
    return best


def answers_of(searcher: Searcher, questions: Sequence[Question]) -> tuple[np.ndarray, np.ndarray]:
    """Per question, the calibration features of ``/ask``'s answer and whether it is right."""
    features, right = [], []
    for question in questions:
        hits = searcher.search(query_of(question))
        if not hits:
            continue
        best = max(hits, key=lambda hit: hit.highlight_score)
        start, end = best.highlight
        text = best.passage.document.text[start:end]
        features.append(answer_features(hits, best))
        right.append(bool(question.answers) and answer_contains_gold(text, question.answers))
    return np.array(features), np.array(right, dtype=np.float64)


def calibrate(features: np.ndarray, right: np.ndarray, epochs: int = 5000) -> Calibration:
    """Logistic regression (on standardized features, for a well-conditioned fit; the result
    is put back on the raw scale)."""
    mean, spread = features.mean(axis=0), features.std(axis=0) + 1e-9
    design = np.column_stack(((features - mean) / spread, np.ones(len(features))))
    weights = np.zeros(design.shape[1])
    for _ in range(epochs):
        p = 1 / (1 + np.exp(-design @ weights))
        weights += 0.5 * (design.T @ (right - p) / len(right) - 1e-3 * weights)
    raw = weights[:-1] / spread
    bias = weights[-1] - float(raw @ mean)
    return Calibration(*np.round(raw, 3).tolist(), bias=round(float(bias), 3))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.answer_fit", description=__doc__)
    parser.add_argument("--fit", nargs="+", type=Path, default=[REPO / "data" / "news-2023", SQUAD])
    parser.add_argument("--check", nargs="*", type=Path, default=[REPO / "data" / "news-2024"])
    args = parser.parse_args(argv)
    settings = ServiceSettings(**{})
    embedder = make_embedder(settings)
    fit: list[tuple[list[Case], float]] = []
    reported: dict[str, list[Case]] = {}
    for folder in [*args.fit, *args.check]:
        index_dir = cached_index(folder / "corpus.jsonl", settings, embedder)
        snapshot = IndexStore(index_dir).open(embedder.name, embedder.dimension)
        questions = load_questions(folder / "queries.jsonl", qrels_of(folder))
        if folder not in args.fit:
            reported[f"{folder.name} (check)"] = cases_of(Searcher(snapshot, embedder), questions)
            continue
        halves = [hashlib.sha256(q.query_id.encode()).digest()[0] % 2 for q in questions]
        split = folder == SQUAD
        for half in (0, 1) if split else (0,):
            chosen = [q for q, h in zip(questions, halves, strict=True) if not split or h == half]
            cases = cases_of(Searcher(snapshot, embedder), chosen)
            name = folder.name + (f" ({'fit' if half == 0 else 'check'} half)" if split else "")
            reported[name] = cases
            if half == 0:
                fit.append((cases, 1.0))
    current = SENTENCE_WEIGHTS.vector()
    fitted = refine(fit, listwise([case for cases, _ in fit for case in cases]))
    # On the scale of the first four signals (summing to 1), so that PAIR_MARGIN and the
    # confidence keep their meaning whatever the fit's scale.
    fitted /= fitted[:4].sum()
    print("\n| set | questions | gold in top 5 | current | fitted |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, cases in reported.items():
        oracle = float(np.mean([case.gold.any() for case in cases]))
        print(
            f"| {name} | {len(cases)} | {oracle:.3f} | {accuracy(cases, current):.3f} "
            f"| {accuracy(cases, fitted):.3f} |"
        )
    print(f"\nfitted: {SentenceWeights(*np.round(fitted, 3).tolist())}")
    first = args.fit[0]
    snapshot = IndexStore(cached_index(first / "corpus.jsonl", settings, embedder)).open(
        embedder.name, embedder.dimension
    )
    questions = load_questions(first / "queries.jsonl", qrels_of(first))
    calibration = calibrate(*answers_of(Searcher(snapshot, embedder), questions))
    print(f"calibration on {first.name}: {calibration}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
