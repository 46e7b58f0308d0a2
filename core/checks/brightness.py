"""Brightness: the mean grey level must sit inside a band.

The reference system also requires its brightness *quality score* to reach 60 %
(``BrightnessRule.min_quality_score``); :func:`reference_quality_score` restates
that formula so the ``reference`` profile decides exactly as the reference does.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from core.checks import Finding, relative_margin
from core.checks.histogram import grey_histogram, histogram_mean, histogram_std
from core.rules import BrightnessRule

#: The reference's quality-score constants: the ideal mean, the standard deviation
#: that counts as full contrast, and the allowed shares of dark (< 50) and bright
#: (>= 200) pixels beyond which the score is penalised one for one.
_IDEAL_MEAN, _FULL_CONTRAST_STD = 128.0, 64.0
_DARK_BELOW, _DARK_ALLOWED = 50, 0.10
_BRIGHT_FROM, _BRIGHT_ALLOWED = 200, 0.05
#: Partial credit of a photo whose mean is inside the band but whose quality score fails.
_IN_BAND_FAIL_SCORE = 70.0


def mean_brightness(grey: NDArray[np.uint8]) -> float:
    """Mean grey level, 0-255."""
    return float(grey.mean(dtype=np.float64))


def reference_quality_score(grey: NDArray[np.uint8]) -> float:
    """The reference system's brightness quality score, in percent (0-100).

    Half closeness of the mean to mid-grey plus half contrast (standard deviation
    over 64, capped at 1), minus the share of dark pixels beyond 10 % and of
    bright pixels beyond 5 %, clamped to [0, 1] and expressed in percent. The
    shares are float32, as the reference's OpenCV histogram makes them, so a photo
    right at 60 % is decided the same way. The mean comes from the same histogram
    (:func:`histogram_mean`, equal to :func:`mean_brightness`): one pass over the
    pixels less, at the full resolution the reference measures.
    """
    counts = grey_histogram(grey)
    hist = counts.astype(np.float32)
    total = hist.sum()
    dark = hist[:_DARK_BELOW].sum() / total
    bright = hist[_BRIGHT_FROM:].sum() / total
    mean = histogram_mean(counts)
    closeness = 1.0 - abs(mean - _IDEAL_MEAN) / _IDEAL_MEAN
    contrast = min(histogram_std(counts) / _FULL_CONTRAST_STD, 1.0)
    # Summed in float32 like the reference, then widened exactly for the float64 rest.
    penalty = float(max(dark - _DARK_ALLOWED, 0) + max(bright - _BRIGHT_ALLOWED, 0))
    return 100.0 * max(0.0, min(1.0, (closeness + contrast) / 2.0 - penalty))


def brightness_finding(grey: NDArray[np.uint8], rule: BrightnessRule) -> Finding:
    """Partial credit as the reference: ``80 - 50 * distance / 50``, at least 30.

    With ``min_quality_score`` a mean inside the band whose quality score falls short
    fails with 70, as in the reference.
    """
    value = mean_brightness(grey)
    values: dict[str, float | int | str | bool | None] = {"mean_brightness": round(value, 2)}
    thresholds: dict[str, float | int | str | bool | None] = {
        "min_brightness": rule.min,
        "max_brightness": rule.max,
    }
    margin = min(
        relative_margin(value, rule.min, at_least=True),
        relative_margin(value, rule.max, at_least=False),
    )
    in_band = rule.min <= value <= rule.max
    quality_ok = True
    if rule.min_quality_score is not None:
        quality = reference_quality_score(grey)
        values["quality_score_percent"] = round(quality, 1)
        thresholds["min_quality_score_percent"] = rule.min_quality_score
        quality_ok = quality >= rule.min_quality_score
        margin = min(margin, relative_margin(quality, rule.min_quality_score, at_least=True))
    if in_band and quality_ok:
        return Finding(True, 100.0, values, thresholds, "ok", margin=margin)
    if in_band:
        return Finding(
            passed=False,
            score=_IN_BAND_FAIL_SCORE,
            values=values,
            thresholds=thresholds,
            reason_code="poor_tonal_quality",
            margin=margin,
        )
    too_dark = value < rule.min
    # The reference credits the mean as it reports it, rounded to 2 decimals.
    distance = rule.min - round(value, 2) if too_dark else round(value, 2) - rule.max
    return Finding(
        passed=False,
        score=max(30.0, 80.0 - (distance / 50.0) * 50.0),
        values=values,
        thresholds=thresholds,
        reason_code="too_dark" if too_dark else "too_bright",
        margin=margin,
    )
