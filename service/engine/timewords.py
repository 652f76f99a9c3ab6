"""Time words in a question, read as a range of publication dates relative to ``now``.

News questions say when: "which company laid off 10,000 workers this week?", "what did
officials say yesterday?", "the talks in July", "since Monday". The first such phrase becomes
a ``TimeRange``, which search applies as a soft preference (articles published in it rank
higher, ``FusionWeights.time``) and every response reports, so the user sees what was
understood. A soft preference, not a filter: on the news dev set only a third of the pages
that hold an answer were published in the question's week, and an article about the week's
news may well be older.

The phrases are few and fixed, read by regular expressions: dateparser and its peers parse a
date out of text but not "this week" into a range, and a wrong range costs more than none.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_PHRASE = re.compile(
    r"\b(?:(?P<rolling>(?:this|the) (?:past )?week|past week)"
    r"|(?P<last_week>last week)"
    r"|(?P<today>today)|(?P<yesterday>yesterday)"
    r"|(?P<this_month>this month)|(?P<last_month>last month)"
    r"|(?P<this_year>this year)|(?P<last_year>last year)"
    r"|(?:in|during) (?P<month>" + "|".join(MONTHS) + r")(?: (?P<month_year>(?:19|20)\d\d))?"
    r"|(?P<prep>in|during|since) (?P<year>(?:19|20)\d\d)"
    r"|since (?P<weekday>" + "|".join(WEEKDAYS) + r"))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Publication dates a question's words point to: ``after`` to ``before``, inclusive,
    and the words they were read from."""

    after: datetime
    before: datetime
    phrase: str


def _day(moment: datetime) -> datetime:
    return datetime.combine(moment.date(), time(), moment.tzinfo)


def _month(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=UTC)
    following = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, following - timedelta(microseconds=1)


def _year(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC) - timedelta(
        microseconds=1
    )


def interpret(text: str, now: datetime) -> TimeRange | None:
    """The range the first time phrase of ``text`` names, relative to ``now`` (aware); None
    when it names none."""
    match = _PHRASE.search(text)
    if match is None:
        return None
    today = _day(now)
    found = match.lastgroup  # the innermost group that matched last: the phrase's kind
    day = timedelta(days=1)
    if found == "rolling":
        after, before = today - 7 * day, now
    elif found == "last_week":
        after, before = today - 14 * day, today - 7 * day
    elif found == "today":
        after, before = today, now
    elif found == "yesterday":
        after, before = today - day, today - timedelta(microseconds=1)
    elif found == "this_month":
        after, before = _month(now.year, now.month)[0], now
    elif found == "last_month":
        year, month = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
        after, before = _month(year, month)
    elif found == "this_year":
        after, before = _year(now.year)[0], now
    elif found == "last_year":
        after, before = _year(now.year - 1)
    elif found in ("month", "month_year"):
        month = MONTHS.index(match.group("month").lower()) + 1
        given = match.group("month_year")
        # "in July" without a year: the latest July that has begun.
        year = int(given) if given else now.year - (month > now.month)
        after, before = _month(year, month)
    elif found == "year":
        after, before = _year(int(match.group("year")))
        if match.group("prep").lower() == "since":
            before = now
    else:  # since <weekday>: its latest occurrence before today, or today itself
        weekday = WEEKDAYS.index(match.group("weekday").lower())
        after, before = today - ((today.weekday() - weekday) % 7) * day, now
    return TimeRange(after, before, match.group(0))
