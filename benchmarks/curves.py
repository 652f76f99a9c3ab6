"""How answer accuracy trades against the share answered, and whether confidence means what it
says: the risk-coverage curve and the reliability table of one run's outcomes.

Both read outcomes served without a threshold (``evaluate.run_modes``), so every threshold can
be applied afterwards: the threshold decides only whether to answer, never what.
"""

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import replace

from benchmarks.questions import ALWAYS_ANSWER, Outcome
from service.engine.answer import Abstention

THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
BUCKETS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.01)


def risk_coverage(
    outcomes: Sequence[Outcome],
    abstention: Abstention,
    thresholds: Sequence[float] = THRESHOLDS,
) -> str:
    """A markdown table: per confidence threshold (``abstention``'s evidence threshold kept),
    the share answered (coverage), the share of answers that hold a gold answer (accuracy
    among answered; an answered unanswerable question is wrong), and the share of
    unanswerable questions that abstain."""
    lines = [
        "| min confidence | answered | accuracy of answers | correct (all answerable) | "
        "unanswerable abstained |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    answerable = [o for o in outcomes if o.question.answerable and o.question.answers]
    unanswerable = [o for o in outcomes if not o.question.answerable]
    for threshold in thresholds:
        gate = replace(abstention, min_confidence=threshold)
        answered = [o for o in outcomes if o.answered(gate)]
        accuracy = _share(o.correct(gate) for o in answered)
        correct = _share(o.correct(gate) for o in answerable)
        abstained = _share(not o.answered(gate) for o in unanswerable)
        lines.append(
            f"| {threshold:.2f} | {len(answered) / max(1, len(outcomes)):.3f} | {accuracy} | "
            f"{correct} | {abstained} |"
        )
    return "\n".join(lines)


def reliability(outcomes: Sequence[Outcome], buckets: Sequence[float] = BUCKETS) -> str:
    """A markdown table: every answer (thresholds aside) grouped by confidence, with how often
    each group is right (calibrated when the two columns agree)."""
    lines = [
        "| confidence | answers | mean confidence | right |",
        "| --- | ---: | ---: | ---: |",
    ]
    given = [o for o in outcomes if o.answer is not None]
    for low, high in itertools.pairwise(buckets):
        group = [o for o in given if low <= o.confidence < high]
        if not group:
            continue
        mean = sum(o.confidence for o in group) / len(group)
        right = _share(o.correct(ALWAYS_ANSWER) for o in group)
        lines.append(f"| {low:.1f}-{min(high, 1.0):.1f} | {len(group)} | {mean:.3f} | {right} |")
    return "\n".join(lines)


def _share(values: Iterable[bool]) -> str:
    items = list(values)
    return f"{sum(items) / len(items):.3f}" if items else "-"
