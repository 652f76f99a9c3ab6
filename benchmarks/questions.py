"""Evaluation questions, what the service did with each, and whether an answer is right.

Data is BEIR-shaped (corpus ``{"_id", "title", "text"}``, queries ``{"_id", "text",
"metadata"}``, qrels ``query-id corpus-id score``), as in ``../shared/data/squad2-dev-sample``
and the news dev sets.
"""

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from service.engine.answer import Abstention

ALWAYS_ANSWER = Abstention(min_evidence=-1.0, min_confidence=0.0)
SQUAD = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "squad2-dev-sample"
"""The shared SQuAD 2.0 sample, beside the clone as CI and the team's machines have it."""
BEIR_FILES = ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv")


def require_beir(folder: Path) -> Path:
    """``folder`` once it holds a BEIR data set; otherwise exit, saying what is missing and
    where the data comes from (rather than a FileNotFoundError's traceback)."""
    missing = [name for name in BEIR_FILES if not (folder / name).is_file()]
    if missing:
        raise SystemExit(
            f"error: {folder} lacks {', '.join(missing)}. This benchmark reads a BEIR data set: "
            f"the shared SQuAD 2.0 sample at {SQUAD} (../shared beside the clone), or another "
            "folder where it takes one (--data)."
        )
    return folder


@dataclass(frozen=True, slots=True)
class Question:
    """One evaluation question: its relevant documents and gold answers (may be empty)."""

    query_id: str
    text: str
    relevant: frozenset[str]
    answers: tuple[str, ...]
    answerable: bool
    asked: str | None = None
    """When it was asked (``metadata.date``, news sets): what its time words mean."""

    def moment(self) -> str | None:
        """The end of the day it was asked, as the ``now`` of a request; None if unknown."""
        return f"{self.asked}T23:59:59+00:00" if self.asked else None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the service did with one question."""

    question: Question
    ranked_docs: list[str]
    top_passages: tuple[str, ...]
    """The texts of the first ``TOP_PASSAGES`` results of ``/search``."""
    answer: str | None
    """``answer.text`` as served without thresholds (``ALWAYS_ANSWER``)."""
    parts: str | None
    """The texts of ``answer.parts``, joined."""
    score: float
    """``answer.score`` (its evidence)."""
    confidence: float
    """``answer.confidence``: whether it is answered is decided here, by ``answered``."""
    search_ms: float
    ask_ms: float

    def answered(self, abstention: Abstention) -> bool:
        return (
            self.answer is not None
            and self.score >= abstention.min_evidence
            and self.confidence >= abstention.min_confidence
        )

    def correct(self, abstention: Abstention) -> bool:
        """Answered, and the answer sentence holds a gold answer."""
        return self.answered(abstention) and answer_contains_gold(
            self.answer, self.question.answers
        )


def load_questions(queries: Path, qrels: Path) -> list[Question]:
    """Questions with their relevant documents; an unanswerable one keeps an empty answer list."""
    relevant: dict[str, set[str]] = {}
    with qrels.open(encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if len(row) >= 3 and row[0] != "query-id" and float(row[2]) > 0:
                relevant.setdefault(row[0], set()).add(row[1])
    questions = []
    with queries.open(encoding="utf-8") as handle:
        for line in handle:
            raw = json.loads(line)
            meta = raw.get("metadata") or {}
            answers = tuple(meta.get("answers") or ())
            questions.append(
                Question(
                    query_id=str(raw["_id"]),
                    text=raw["text"],
                    relevant=frozenset(relevant.get(str(raw["_id"]), ())),
                    answers=answers,
                    answerable=bool(meta.get("answerable", bool(answers))),
                    asked=meta.get("date"),
                )
            )
    return questions


def off_topic_questions(path: Path) -> list[Question]:
    """Questions about nothing in the corpus: each must get ``answer: null``."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [
        Question(f"off-topic-{i}", text, frozenset(), (), answerable=False)
        for i, text in enumerate(line for line in lines if line and not line.startswith("#"))
    ]


def answer_contains_gold(answer: str | None, gold: Sequence[str]) -> bool:
    if not answer:
        return False
    folded = answer.casefold()
    return any(g.casefold() in folded for g in gold if g)
