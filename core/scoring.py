"""From check results to a decision: weighted score, vetoes, quality level."""

from __future__ import annotations

from collections.abc import Iterable

from core.schema import CheckResult, Outcome, Quality

#: Lower bounds of each quality level, as in the reference system.
QUALITY_LEVELS: tuple[tuple[float, Quality], ...] = (
    (85.0, Quality.EXCELLENT),
    (65.0, Quality.GOOD),
    (40.0, Quality.FAIR),
    (0.0, Quality.POOR),
)


def weighted_score(results: Iterable[CheckResult]) -> float:
    """Weighted mean of check scores, 0-100; weights need not sum to 100."""
    items = list(results)
    total_weight = sum(r.weight for r in items)
    if total_weight <= 0:
        return 0.0
    return sum(r.score * r.weight for r in items) / total_weight


def quality_level(score: float) -> Quality:
    for lower, level in QUALITY_LEVELS:
        if score >= lower:
            return level
    return Quality.POOR


def decide(score: float, accept_score: float, vetoed_by: list[str]) -> Outcome:
    """Accepted at ``accept_score`` or more, unless a blocking check vetoed the photo."""
    return Outcome.ACCEPTED if score >= accept_score and not vetoed_by else Outcome.REJECTED
