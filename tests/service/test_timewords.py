"""Time words read as publication-date ranges relative to the moment of asking."""

from datetime import UTC, datetime

import pytest

from service.engine.timewords import interpret

NOW = datetime(2024, 3, 14, 15, 30, tzinfo=UTC)  # a Thursday


@pytest.mark.parametrize(
    ("question", "after", "before"),
    [
        (
            "Which company laid off 10,000 workers this week?",
            "2024-03-07T00:00",
            "2024-03-14T15:30",
        ),
        ("What happened in the past week?", "2024-03-07T00:00", "2024-03-14T15:30"),
        ("Who resigned last week?", "2024-02-29T00:00", "2024-03-07T00:00"),
        ("What did officials say yesterday?", "2024-03-13T00:00", "2024-03-13T23:59"),
        ("What was announced today?", "2024-03-14T00:00", "2024-03-14T15:30"),
        ("Which team won last month?", "2024-02-01T00:00", "2024-02-29T23:59"),
        ("The cease-fire talks in July", "2023-07-01T00:00", "2023-07-31T23:59"),
        ("The cease-fire talks in March", "2024-03-01T00:00", "2024-03-31T23:59"),
        ("What was agreed in July 2022?", "2022-07-01T00:00", "2022-07-31T23:59"),
        ("Who won the election in 2023?", "2023-01-01T00:00", "2023-12-31T23:59"),
        ("What is new since 2023?", "2023-01-01T00:00", "2024-03-14T15:30"),
        ("What changed since Monday?", "2024-03-11T00:00", "2024-03-14T15:30"),
        ("What changed since Thursday?", "2024-03-14T00:00", "2024-03-14T15:30"),
        ("Who was elected last year?", "2023-01-01T00:00", "2023-12-31T23:59"),
        ("How many were hired this year?", "2024-01-01T00:00", "2024-03-14T15:30"),
    ],
)
def test_time_words_become_a_range(question: str, after: str, before: str) -> None:
    found = interpret(question, NOW)
    assert found is not None
    assert found.after.isoformat()[:16] == after
    assert found.before.isoformat()[:16] == before
    assert found.phrase.lower() in question.lower()


@pytest.mark.parametrize(
    "question",
    [
        "What are the deal's phases?",
        "Who is Hersh Goldberg-Polin?",
        "Which week is it?",
        "May I ask?",
    ],
)
def test_questions_without_time_words_have_no_range(question: str) -> None:
    assert interpret(question, NOW) is None
