"""From check results to a decision: weighted score, vetoes, quality level."""

from __future__ import annotations

from collections.abc import Iterable

from core.schema import Outcome, Quality

#: Lower bounds of each quality level, as in the reference system.
QUALITY_LEVELS: tuple[tuple[float, Quality], ...] = (
    (85.0, Quality.EXCELLENT),
    (65.0, Quality.GOOD),
    (40.0, Quality.FAIR),
    (0.0, Quality.POOR),
)


def weighted_score(scores: Iterable[tuple[float, float]]) -> float:
    """Weighted mean of ``(score, weight)`` pairs, 0-100; weights need not sum to 100.

    Summed in the order given, one product at a time, as the reference system does.
    """
    total = 0.0
    total_weight = 0.0
    for score, weight in scores:
        total += score * weight
        total_weight += weight
    return total / total_weight if total_weight > 0 else 0.0


def quality_level(score: float) -> Quality:
    for lower, level in QUALITY_LEVELS:
        if score >= lower:
            return level
    return Quality.POOR


def decide(score: float, accept_score: float, vetoed_by: list[str]) -> Outcome:
    """Accepted when the score, rounded to one decimal as shown, reaches ``accept_score``,
    unless a blocking check vetoed the photo.

    The reference system rounds before it compares, so 64.96 passes there; so it does here.
    """
    passed = round(score, 1) >= accept_score
    return Outcome.ACCEPTED if passed and not vetoed_by else Outcome.REJECTED
