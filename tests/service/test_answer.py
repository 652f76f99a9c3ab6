"""Answer-sentence scoring and abstention."""

from dataclasses import replace

import numpy as np
import pytest

from service.engine.answer import (
    CALIBRATION,
    FEATURES,
    Abstention,
    SentenceCandidates,
    SentenceScorer,
    choose_answer,
)
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


def _candidates(rows: int, **columns: np.ndarray) -> SentenceCandidates:
    zeros = np.zeros(rows)
    values = {
        name: columns.get(name, zeros)
        for name in ("dense", "coverage", "context", "length", "lede", "question")
    }
    return SentenceCandidates(
        spans=[(i * 10, i * 10 + 5) for i in range(rows)],
        answers=[frozenset()] * rows,
        kind=zeros,
        after_question=columns.get("after_question", zeros),
        **values,
    )


def test_sentence_features_are_in_the_order_of_the_weights() -> None:
    found = _candidates(2, dense=np.array([0.5, 0.2]), question=np.array([0.0, 1.0]))
    features = found.features(0.4, rank=1, agreement=np.array([0.25, 0.0]))
    assert features.shape == (2, len(FEATURES))
    column = {name: features[:, i] for i, name in enumerate(FEATURES)}
    assert column["dense"] == pytest.approx([0.5, 0.2])
    assert column["passage"] == pytest.approx([0.4, 0.4])
    assert column["rank"] == pytest.approx([0.5, 0.5])
    assert column["consensus"] == pytest.approx([0.25, 0.0])
    assert column["question"] == pytest.approx([0.0, 1.0])


def test_a_question_in_the_text_loses_to_a_statement_that_matches_a_little_less(
    seed_snapshot,
) -> None:
    """Quiz pages and headlines echo the question itself: the answer is a statement."""
    found = _candidates(
        2,
        dense=np.array([0.85, 0.7]),
        coverage=np.array([0.9, 0.8]),
        context=np.array([0.9, 0.9]),
        question=np.array([1.0, 0.0]),
    )
    assert SentenceScorer(seed_snapshot).best(found, 0.9, 0).row == 1
    statement = replace(found, question=np.zeros(2))
    assert SentenceScorer(seed_snapshot).best(statement, 0.9, 0).row == 0


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
    found = _candidates(len(scores))
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
    answer, reason = choose_answer(hits, Abstention(0.0, 0.0))
    assert answer is not None and reason is None
    assert answer.hit.highlight_score == max(h.highlight_score for h in hits)
    assert answer.text == answer.hit.passage.document.text[answer.start : answer.end]
    assert 0.0 < answer.confidence < 1.0
    weak = [replace(h, evidence=0.1) for h in hits]
    answer, reason = choose_answer(weak, Abstention(0.2, 0.0))
    assert answer is None and reason and "evidence 0.10 < threshold 0.20" in reason
    unsure = Abstention(0.0, 0.999)
    answer, reason = choose_answer(hits, unsure)
    assert answer is None and reason and "< threshold 1.00" in reason
    nothing = choose_answer([], Abstention(0.5, 0.5))
    assert nothing == (None, "no passage in these articles matches this question")


def test_confidence_grows_with_the_answer_lead_over_the_runner_up(
    seed_snapshot, fake_embedder
) -> None:
    hits = Searcher(seed_snapshot, fake_embedder).search(
        SearchQuery("the first phase of the deal", 5)
    )
    best = max(hits, key=lambda h: h.highlight_score)
    rivals = [h if h is best else replace(h, highlight_score=best.highlight_score) for h in hits]
    behind = [h if h is best else replace(h, highlight_score=0.0) for h in hits]
    assert CALIBRATION.confidence(behind, best) > CALIBRATION.confidence(rivals, best)


def test_the_sentences_of_several_passages_score_as_each_passage_alone(
    seed_snapshot, fake_embedder
) -> None:
    """Batched over a search's hits, no signal leaks across a passage boundary (the context
    of a passage's first sentence, the line after a question)."""
    searcher = Searcher(seed_snapshot, fake_embedder)
    signals = searcher.signals(SearchQuery("How many hostages will Hamas release?", 10))
    assert signals is not None
    found = [seed_snapshot.passage(int(p)) for p in signals.passage_ids]
    # Each passage twice in a row: its first sentence follows its own last one in the batch.
    passages = [passage for passage in found for _ in range(2)]
    assert len(found) > 2
    together = SentenceScorer(seed_snapshot).candidates_of(passages, signals)
    for passage, batched in zip(passages, together, strict=True):
        (alone,) = SentenceScorer(seed_snapshot).candidates_of([passage], signals)
        assert batched.spans == alone.spans
        assert batched.answers == alone.answers
        np.testing.assert_array_equal(
            batched.features(0.5, 0, np.zeros(len(alone.spans))),
            alone.features(0.5, 0, np.zeros(len(alone.spans))),
        )
