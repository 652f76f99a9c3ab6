"""Answer-sentence scoring and abstention."""

from dataclasses import replace

import numpy as np
import pytest

from service.engine.answer import SentenceCandidates, SentenceWeights, choose_answer
from service.engine.query import SearchQuery
from service.engine.search import Searcher
from service.engine.signals import TermWeights


def test_coverage_weighs_rare_terms_more() -> None:
    weights = TermWeights(["doha", "talk"], np.array([3.0, 1.0]), np.array([4, 7]))
    # "doha" in sentences 0 and 2, "talk" in sentences 1 and 2, neither in sentence 3.
    present = np.array([[True, False, True, False], [False, True, True, False]])
    assert weights.coverage_by_sentence(present) == pytest.approx([0.75, 0.25, 1.0, 0.0])
    nothing = TermWeights([], np.zeros(0), np.zeros(0, np.int64))
    assert nothing.coverage_by_sentence(np.zeros((0, 1), bool)) == pytest.approx([0.0])


def test_sentence_scores_add_the_weighted_signals() -> None:
    found = SentenceCandidates(
        spans=[(0, 5), (6, 9)],
        dense=np.array([0.5, 0.2]),
        coverage=np.array([0.5, 1.0]),
        context=np.array([0.5, 1.0]),
    )
    weights = SentenceWeights(dense=1.0, coverage=0.0, context=0.0, passage=0.5)
    assert found.scores(weights, 0.4) == pytest.approx([0.7, 0.4])
    lexical = SentenceWeights(dense=0.0, coverage=0.5, context=0.5, passage=0.0)
    assert int(np.argmax(found.scores(lexical, 0.4))) == 1


@pytest.mark.parametrize(
    ("scores", "margin", "rows"),
    [
        ([0.2, 0.9, 0.5], 0.1, (1, 1)),
        ([0.2, 0.9, 0.85], 0.1, (1, 2)),
        ([0.88, 0.9, 0.85], 0.1, (0, 1)),
        ([0.9], 0.1, (0, 0)),
        ([0.9, 0.9], 0.0, (0, 1)),
    ],
)
def test_an_answer_spans_two_sentences_only_when_both_score_alike(scores, margin, rows) -> None:
    found = SentenceCandidates(
        spans=[(i * 10, i * 10 + 5) for i in range(len(scores))],
        dense=np.zeros(len(scores)),
        coverage=np.zeros(len(scores)),
        context=np.zeros(len(scores)),
    )
    assert found.answer_rows(np.array(scores), margin) == rows


def test_the_highlight_is_the_sentence_that_names_what_is_asked(
    seed_snapshot,
    fake_embedder,
) -> None:
    hits = Searcher(seed_snapshot, fake_embedder).search(
        SearchQuery("Who is Hersh Goldberg-Polin?", 3)
    )
    start, end = hits[0].highlight
    assert "Goldberg-Polin" in hits[0].passage.document.text[start:end]


def test_choose_answer_takes_the_best_sentence_or_abstains_with_a_reason(
    seed_snapshot,
    fake_embedder,
) -> None:
    hits = Searcher(seed_snapshot, fake_embedder).search(
        SearchQuery("the first phase of the deal", 5)
    )
    answer, reason = choose_answer(hits, min_confidence=0.0)
    assert answer is not None and reason is None
    assert answer.hit.highlight_score == max(h.highlight_score for h in hits)
    assert answer.text == answer.hit.passage.document.text[answer.start : answer.end]
    weak = [replace(h, confidence=0.1) for h in hits]
    answer, reason = choose_answer(weak, min_confidence=0.2)
    assert answer is None and reason and "0.10 < threshold 0.20" in reason
    assert choose_answer([], 0.5) == (None, "no passage in these articles matches this question")
