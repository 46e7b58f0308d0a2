"""Resolution, read from the header: enough pixels for a clerk to see the issue."""

from __future__ import annotations

from core.checks import Finding, relative_margin
from core.rules import ResolutionRule


def resolution_finding(width: int, height: int, rule: ResolutionRule) -> Finding:
    """Partial credit as the reference: ``80 * MP / credit_MP`` from 0.3 MP, else 20 (capped at 80).

    ``width`` and ``height`` are as the rule wants them compared (displayed, or stored
    before EXIF orientation); the engine picks.
    """
    megapixels = width * height / 1e6
    if rule.any_orientation:
        long_side, short_side = max(width, height), min(width, height)
        big_enough = long_side >= max(rule.min_width, rule.min_height) and short_side >= min(
            rule.min_width, rule.min_height
        )
    else:
        big_enough = width >= rule.min_width and height >= rule.min_height
    passed = big_enough and megapixels >= rule.min_megapixels
    margin = min(
        relative_margin(megapixels, rule.min_megapixels, at_least=True),
        relative_margin(min(width, height), min(rule.min_width, rule.min_height), at_least=True),
        relative_margin(max(width, height), max(rule.min_width, rule.min_height), at_least=True),
    )
    values = {"width": width, "height": height, "megapixels": round(megapixels, 3)}
    thresholds = {
        "min_width": rule.min_width,
        "min_height": rule.min_height,
        "min_megapixels": rule.min_megapixels,
    }
    if passed:
        return Finding(True, 100.0, values, thresholds, "sufficient", margin=margin)
    # Credited on megapixels rounded to 2 decimals, as the reference reports them.
    shown = round(megapixels, 2)
    credit = rule.credit_megapixels or rule.min_megapixels
    score = min(80.0, (shown / credit) * 80.0) if shown >= 0.3 else 20.0
    return Finding(
        passed=False,
        score=score,
        values=values,
        thresholds=thresholds,
        reason_code="too_small",
        margin=margin,
    )
