"""Exposure: tonal range and clipped shadows/highlights, from one 256-bin histogram."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from core.checks import Finding, relative_margin
from core.rules import ExposureRule


def grey_histogram(grey: NDArray[np.uint8]) -> NDArray[np.int64]:
    """Counts of each grey level 0-255 (length 256)."""
    return np.bincount(grey.ravel(), minlength=256).astype(np.int64)


def tone_quantiles(
    hist: NDArray[np.int64], low: float = 0.005, high: float = 0.995
) -> tuple[int, int]:
    """Grey levels (0-255) of the ``low`` and ``high`` quantiles of a histogram; (0, 0) if empty.

    The first level whose cumulative count reaches the share. Counted in float32, as the
    reference system's OpenCV histogram is, so both agree to the level on every photo.
    """
    cumulative = np.cumsum(hist.astype(np.float32), dtype=np.float32)
    total = cumulative[-1]
    if total == 0:
        return 0, 0
    lo = int(np.searchsorted(cumulative, total * np.float32(low)))
    hi = int(np.searchsorted(cumulative, total * np.float32(high)))
    return lo, hi


def dynamic_range(hist: NDArray[np.int64], low: float = 0.005, high: float = 0.995) -> int:
    """Distance in grey levels between the ``low`` and ``high`` quantiles of a histogram."""
    lo, hi = tone_quantiles(hist, low, high)
    return hi - lo


def exposure_finding(grey: NDArray[np.uint8], rule: ExposureRule) -> Finding:
    """Partial credit as the reference: ``70 * range / min_range``.

    With ``clip_penalty`` the score is further scaled by allowed/actual clipping and,
    when ``min_bright_end`` is set, by ``bright_end / min_bright_end``, so a badly
    exposed photo scores low enough to veto.
    """
    hist = grey_histogram(grey)
    total = max(1, int(hist.sum()))
    low_end, bright_end = tone_quantiles(hist)
    value = bright_end - low_end
    shadows = float(hist[: rule.shadow_level + 1].sum()) / total
    highlights = float(hist[rule.highlight_level :].sum()) / total
    values = {
        "dynamic_range": value,
        "shadow_clip_fraction": round(shadows, 4),
        "highlight_clip_fraction": round(highlights, 4),
        "dark_end": low_end,
        "bright_end": bright_end,
    }
    thresholds = {
        "min_dynamic_range": rule.min_dynamic_range,
        "max_shadow_clip_fraction": rule.max_shadow_clip,
        "max_highlight_clip_fraction": rule.max_highlight_clip,
        "min_bright_end": rule.min_bright_end,
        "max_dark_end": rule.max_dark_end,
    }
    flat = value < rule.min_dynamic_range
    dark_clip = shadows > rule.max_shadow_clip
    bright_clip = highlights > rule.max_highlight_clip
    dim = rule.min_bright_end is not None and bright_end < rule.min_bright_end
    washed = rule.max_dark_end is not None and low_end > rule.max_dark_end
    margin = _margin(value, shadows, highlights, low_end, bright_end, rule)
    if not (flat or dark_clip or bright_clip or dim or washed):
        return Finding(True, 100.0, values, thresholds, "ok", margin=margin)
    credit = rule.credit_dynamic_range or rule.min_dynamic_range
    if not credit:
        score = 70.0
    elif value <= 0:  # as the reference: a photo of one flat tone earns 30, not 0
        score = 30.0
    else:
        score = min(70.0, (value / credit) * 70.0)
    if rule.clip_penalty:
        for actual, allowed in (
            (shadows, rule.max_shadow_clip),
            (highlights, rule.max_highlight_clip),
        ):
            if actual > allowed:
                score *= allowed / actual
    if dim and rule.min_bright_end:
        score *= bright_end / rule.min_bright_end
    if washed and rule.max_dark_end is not None:
        score *= (255.0 - low_end) / max(1.0, 255.0 - rule.max_dark_end)
    if bright_clip or washed:
        code = "highlights_clipped" if bright_clip else "washed_out"
    elif dark_clip:
        code = "shadows_clipped"
    elif dim:
        code = "underexposed"
    else:
        code = "low_contrast"
    return Finding(False, score, values, thresholds, code, margin=margin)


def _margin(
    value: int, shadows: float, highlights: float, low_end: int, bright_end: int, rule: ExposureRule
) -> float:
    """The closest (or most violated) of the exposure conditions, as a signed fraction."""
    margins = [
        relative_margin(value, rule.min_dynamic_range, at_least=True),
        relative_margin(shadows, rule.max_shadow_clip, at_least=False),
        relative_margin(highlights, rule.max_highlight_clip, at_least=False),
    ]
    if rule.min_bright_end is not None:
        margins.append(relative_margin(bright_end, rule.min_bright_end, at_least=True))
    if rule.max_dark_end is not None:
        margins.append(relative_margin(low_end, rule.max_dark_end, at_least=False))
    return min(margins)
