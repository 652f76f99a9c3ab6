"""What kind of answer a question asks for, and which sentences carry one of that kind.

No reader model can be had here, so the answer sentence is chosen by signals that news
questions make plain: "how many" wants a number, "when" or "what day" a date, "who" or "which
team" a name, and the answer to any of them is something the question does not already say.
A sentence that names the question's subject but adds no number, date or name of its own is
a restatement, not an answer; a sentence that ends in a question mark is a question (quiz pages
and headlines echo the question itself), and the line after such an echo is often its answer.

Across the top passages, the same-story rivals of news are a help: a name that several of
the retrieved articles mention beside the question's terms is more likely the answer than one
that a single article does (``consensus``), the redundancy that open-domain QA systems
without a reader relied on (AskMSR).
"""

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from itertools import accumulate

from indexer.lexical import STOP_WORDS
from service.engine.timewords import MONTHS, WEEKDAYS

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|"
    "thousands?|millions?|billions?|trillions?"
)
_NUMBER = re.compile(rf"\b(?:\d[\d,.]*|{_NUMBER_WORDS})\b", re.IGNORECASE)
_MONTHS = "|".join(MONTHS)
_DAYS = "|".join(WEEKDAYS)
_TIME = re.compile(
    rf"\b(?:(?:19|20)\d\d|{_MONTHS}|{_DAYS})s?\b|"
    r"\b(?:yesterday|today|tonight|(?:last|next) (?:week|month|year))\b",
    re.IGNORECASE,
)
# A run of capitalised words: a name ("Buffalo Bills", "Nikki Haley", "Meta").
_NAME = re.compile(r"\b[A-Z][\w'’&-]*(?:\s+[A-Z][\w'’&-]*)*")
_WORD = re.compile(r"\w+")
_COUNT_QUESTION = re.compile(
    r"\bhow (?:many|much|old|long|far)\b|\bwhat (?:percentage|percent|number|share|amount)\b",
    re.IGNORECASE,
)
_TIME_QUESTION = re.compile(
    r"\bwhen\b|\b(?:what|which) (?:year|day|date|month|time)\b", re.IGNORECASE
)
_NAME_QUESTION = re.compile(r"\b(?:who|whom|whose|which|where)\b", re.IGNORECASE)
# Joins sentences for one scan: no pattern above matches or crosses it.
_SEPARATOR = "\0"


class AnswerKind(Enum):
    COUNT = "count"
    TIME = "time"
    NAME = "name"
    OTHER = "other"


_PATTERNS = {AnswerKind.COUNT: _NUMBER, AnswerKind.TIME: _TIME, AnswerKind.NAME: _NAME}


@dataclass(frozen=True, slots=True)
class QuestionCues:
    """A question's answer kind and its own words (which an answer must add to)."""

    kind: AnswerKind
    words: frozenset[str]

    @classmethod
    def of(cls, question: str) -> "QuestionCues":
        if _COUNT_QUESTION.search(question):
            kind = AnswerKind.COUNT
        elif _TIME_QUESTION.search(question):
            kind = AnswerKind.TIME
        elif _NAME_QUESTION.search(question):
            kind = AnswerKind.NAME
        else:
            kind = AnswerKind.OTHER
        return cls(kind, frozenset(word.lower() for word in _WORD.findall(question)))

    def answers_in(self, mentioned: Sequence[str]) -> frozenset[str]:
        """Of what a sentence mentions of the asked kind (``mentions``), the numbers, dates or
        names (lower-cased) that add to the question: for a name, its words the question
        does not already say; empty when it adds none."""
        items: Iterable[str] = mentioned
        if self.kind is AnswerKind.NAME:
            items = (
                item
                if self.words.isdisjoint(item.split())
                else " ".join(word for word in item.split() if word not in self.words)
                for item in mentioned
            )
        return frozenset(item for item in items if item and item not in self.words)


def mentions(kind: AnswerKind, sentences: Sequence[str]) -> list[tuple[str, ...]]:
    """Per sentence, the distinct numbers, dates or names of ``kind`` it mentions, lower-cased
    (names without their stop words): what it offers any question asking for that kind.

    One scan of all the sentences joined by a NUL, which no pattern matches or crosses, so
    each match lies in one sentence and is found as it would be alone."""
    pattern = _PATTERNS.get(kind)
    if pattern is None:
        return [()] * len(sentences)
    ends = list(accumulate(len(sentence) + 1 for sentence in sentences))
    found: list[dict[str, None]] = [{} for _ in sentences]
    for match in pattern.finditer(_SEPARATOR.join(sentences)):
        item = match.group(0).lower()
        if kind is AnswerKind.NAME:
            item = " ".join(word for word in item.split() if word not in STOP_WORDS)
        if item:
            found[bisect_right(ends, match.start())][item] = None
    return [tuple(items) for items in found]


def is_question(sentence: str) -> bool:
    return sentence.rstrip().rstrip("\"'”’)").endswith("?")


def consensus(answers: Sequence[frozenset[str]], documents: Sequence[str]) -> list[float]:
    """Per sentence, the largest share of the documents (among ``documents``, one per
    sentence) that mention one of its answers of the asked kind."""
    mentions: dict[str, set[str]] = {}
    for found, document in zip(answers, documents, strict=True):
        for item in found:
            mentions.setdefault(item, set()).add(document)
    total = max(1, len(set(documents)))
    return [max((len(mentions[item]) for item in found), default=0) / total for found in answers]
