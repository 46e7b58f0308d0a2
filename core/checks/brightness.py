"""Brightness: the mean grey level must sit inside a band."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from core.checks import Finding
from core.rules import BrightnessRule


def mean_brightness(grey: NDArray[np.uint8]) -> float:
    """Mean grey level, 0-255."""
    return float(grey.mean(dtype=np.float64))


def brightness_finding(grey: NDArray[np.uint8], rule: BrightnessRule) -> Finding:
    """Partial credit as the reference: ``80 - 50 * distance / 50``, at least 30."""
    value = mean_brightness(grey)
    values = {"mean_brightness": round(value, 2)}
    thresholds = {"min_brightness": rule.min, "max_brightness": rule.max}
    if rule.min <= value <= rule.max:
        return Finding(True, 100.0, values, thresholds, "ok")
    too_dark = value < rule.min
    distance = rule.min - value if too_dark else value - rule.max
    return Finding(
        passed=False,
        score=max(30.0, 80.0 - 50.0 * distance / 50.0),
        values=values,
        thresholds=thresholds,
        reason_code="too_dark" if too_dark else "too_bright",
    )
