"""Answer-kind cues: what a question asks for, and which sentences add it."""

import pytest

from service.engine.cues import AnswerKind, QuestionCues, consensus, is_question


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


def test_a_sentence_adds_an_answer_only_with_something_the_question_does_not_say() -> None:
    team = QuestionCues.of("Damar Hamlin is a valued member of which team?")
    assert team.answers_of_kind("Damar Hamlin plays for the Buffalo Bills.") == {"buffalo bills"}
    assert team.answers_of_kind("Damar Hamlin collapsed on the field.") == frozenset()
    count = QuestionCues.of("How many hostages will be released in 2024?")
    assert count.answers_of_kind("Thirty-three hostages, 33 in all, by 2024.") == {"three", "33"}
    day = QuestionCues.of("Heart attacks are most likely on what day?")
    assert day.answers_of_kind("Mondays were also times more likely.") == {"mondays"}
    assert QuestionCues.of("What are the phases?").answers_of_kind("In Gaza, 33.") == frozenset()


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
