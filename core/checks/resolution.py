"""Resolution, read from the header: enough pixels for a clerk to see the issue."""

from __future__ import annotations

from core.checks import Finding
from core.rules import ResolutionRule


def resolution_finding(width: int, height: int, rule: ResolutionRule) -> Finding:
    """Partial credit as the reference: ``80 * MP / min_MP`` from 0.3 MP, else 20 (capped at 80)."""
    megapixels = width * height / 1e6
    if rule.any_orientation:
        long_side, short_side = max(width, height), min(width, height)
        big_enough = long_side >= max(rule.min_width, rule.min_height) and short_side >= min(
            rule.min_width, rule.min_height
        )
    else:
        big_enough = width >= rule.min_width and height >= rule.min_height
    passed = big_enough and megapixels >= rule.min_megapixels
    values = {"width": width, "height": height, "megapixels": round(megapixels, 3)}
    thresholds = {
        "min_width": rule.min_width,
        "min_height": rule.min_height,
        "min_megapixels": rule.min_megapixels,
    }
    if passed:
        return Finding(True, 100.0, values, thresholds, "sufficient")
    score = min(80.0, 80.0 * megapixels / rule.min_megapixels) if megapixels >= 0.3 else 20.0
    return Finding(
        passed=False,
        score=score,
        values=values,
        thresholds=thresholds,
        reason_code="too_small",
    )
