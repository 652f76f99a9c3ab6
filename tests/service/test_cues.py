"""Answer-kind cues: what a question asks for, and which sentences add it."""

import pytest

from service.engine.cues import AnswerKind, QuestionCues, consensus, is_question, mentions


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many hostages will be released in the first phase?", AnswerKind.COUNT),
        ("What percentage of voters backed the measure?", AnswerKind.COUNT),
        ("When will the allies be briefed?", AnswerKind.TIME),
        ("New research says heart attacks happen most on what day?", AnswerKind.TIME),
        ("Damar Hamlin is a valued member of which team?", AnswerKind.NAME),
        ("Who is Hersh Goldberg-Polin?", AnswerKind.NAME),
        ("What are the deal's phases?", AnswerKind.OTHER),
    ],
)
def test_the_kind_of_answer_a_question_asks_for(question: str, kind: AnswerKind) -> None:
    assert QuestionCues.of(question).kind is kind


def _adds(question: str, sentence: str) -> frozenset[str]:
    """What ``sentence`` adds of the kind ``question`` asks for."""
    cues = QuestionCues.of(question)
    return cues.answers_in(mentions(cues.kind, [sentence])[0])


def test_a_sentence_adds_an_answer_only_with_something_the_question_does_not_say() -> None:
    team = "Damar Hamlin is a valued member of which team?"
    assert _adds(team, "Damar Hamlin plays for the Buffalo Bills.") == {"buffalo bills"}
    assert _adds(team, "Damar Hamlin collapsed on the field.") == frozenset()
    count = "How many hostages will be released in 2024?"
    assert _adds(count, "Thirty-three hostages, 33 in all, by 2024.") == {"three", "33"}
    day = "Heart attacks are most likely on what day?"
    assert _adds(day, "Mondays were also times more likely.") == {"mondays"}
    assert _adds("What are the phases?", "In Gaza, 33.") == frozenset()


def test_questions_are_told_from_statements() -> None:
    assert is_question("Which music star announced a tour?")
    assert is_question('He asked: "Who is next?"')
    assert not is_question("Beyoncé announced a tour.")


def test_consensus_is_the_share_of_articles_that_mention_a_sentence_answer() -> None:
    answers = [
        frozenset({"bills"}),
        frozenset({"bills", "steelers"}),
        frozenset(),
        frozenset({"bills"}),
    ]
    # Sentences of articles a, a, b, c: "bills" in a and c, "steelers" in a only.
    assert consensus(answers, ["a", "a", "b", "c"]) == pytest.approx([2 / 3, 2 / 3, 0.0, 2 / 3])
