"""Which questions ask for several things, and which hits become parts of their answer."""

import pytest

from service.engine.parts import MAX_PARTS_CHARS, answer_parts, asks_for_several
from service.engine.query import SearchQuery
from service.engine.search import Searcher


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("what are the deal's phases?", (True, "phase")),
        ("What steps does the plan take?", (True, "step")),
        ("Which priorities did the summit set?", (True, "priority")),
        ("Who were released in the exchange?", (True, None)),
        ("What did Biden and Netanyahu discuss?", (True, None)),
        ("How many phases does the deal have?", (False, None)),
        ("Who is Hersh Goldberg-Polin?", (False, None)),
        ("When will allies be briefed?", (False, None)),
    ],
)
def test_list_questions_are_told_by_their_cues(question: str, expected) -> None:
    assert asks_for_several(question) == expected


def test_parts_start_with_the_answer_and_name_what_was_asked(seed_snapshot, fake_embedder) -> None:
    question = "what are the deal's phases?"
    hits = Searcher(seed_snapshot, fake_embedder).search(SearchQuery(question, 10))
    best = max(hits, key=lambda hit: hit.highlight_score)
    parts = answer_parts(question, hits, best)
    assert parts[0].hit is best and (parts[0].start, parts[0].end) == best.highlight
    assert ["first phase" in parts[0].text, "second phase" in parts[1].text] == [True, True]
    assert len(parts) == 2
    if len(parts) > 1:  # a part joins only while the whole stays readable
        assert sum(len(part.text) for part in parts) <= MAX_PARTS_CHARS
    spans = [(part.start, part.end) for part in parts[1:]]
    assert spans == sorted(spans)  # the rest in document order (one article here)


def test_a_question_for_one_thing_has_one_part(seed_snapshot, fake_embedder) -> None:
    question = "Who is Hersh Goldberg-Polin?"
    hits = Searcher(seed_snapshot, fake_embedder).search(SearchQuery(question, 10))
    best = max(hits, key=lambda hit: hit.highlight_score)
    assert [part.hit for part in answer_parts(question, hits, best)] == [best]
