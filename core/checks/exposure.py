"""Exposure: tonal range and clipped shadows/highlights, from one 256-bin histogram."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from core.checks import Finding
from core.rules import ExposureRule


def grey_histogram(grey: NDArray[np.uint8]) -> NDArray[np.int64]:
    """Counts of each grey level 0-255 (length 256)."""
    return np.bincount(grey.ravel(), minlength=256).astype(np.int64)


def dynamic_range(hist: NDArray[np.int64], low: float = 0.005, high: float = 0.995) -> int:
    """Distance in grey levels between the ``low`` and ``high`` quantiles of a histogram."""
    cumulative = np.cumsum(hist)
    total = cumulative[-1]
    if total == 0:
        return 0
    lo = int(np.searchsorted(cumulative, total * low))
    hi = int(np.searchsorted(cumulative, total * high))
    return hi - lo


def exposure_finding(grey: NDArray[np.uint8], rule: ExposureRule) -> Finding:
    """Partial credit as the reference: ``70 * range / min_range`` (optionally x clipping)."""
    hist = grey_histogram(grey)
    total = max(1, int(hist.sum()))
    value = dynamic_range(hist)
    shadows = float(hist[: rule.shadow_level + 1].sum()) / total
    highlights = float(hist[rule.highlight_level :].sum()) / total
    values = {
        "dynamic_range": value,
        "shadow_clip_fraction": round(shadows, 4),
        "highlight_clip_fraction": round(highlights, 4),
    }
    thresholds = {
        "min_dynamic_range": rule.min_dynamic_range,
        "max_shadow_clip_fraction": rule.max_shadow_clip,
        "max_highlight_clip_fraction": rule.max_highlight_clip,
    }
    flat = value < rule.min_dynamic_range
    dark_clip = shadows > rule.max_shadow_clip
    bright_clip = highlights > rule.max_highlight_clip
    if not (flat or dark_clip or bright_clip):
        return Finding(True, 100.0, values, thresholds, "ok", "The exposure is balanced.")
    score = 70.0 * min(1.0, value / rule.min_dynamic_range) if rule.min_dynamic_range else 70.0
    if rule.clip_penalty:
        for actual, allowed in (
            (shadows, rule.max_shadow_clip),
            (highlights, rule.max_highlight_clip),
        ):
            if actual > allowed:
                score *= allowed / actual
    if bright_clip:
        code, reason, advice = (
            "highlights_clipped",
            f"{highlights:.0%} of the photo is blown out to white.",
            "Avoid bright sky or direct light in the frame, or tap the bright area to expose for it.",
        )
    elif dark_clip:
        code, reason, advice = (
            "shadows_clipped",
            f"{shadows:.0%} of the photo is crushed to black.",
            "Add light or use the flash so that details in the dark areas show.",
        )
    else:
        code, reason, advice = (
            "low_contrast",
            f"The photo is flat: its tones span only {value} of 255 levels.",
            "Avoid haze, fog or a dirty lens, and shoot with the light behind you.",
        )
    return Finding(False, score, values, thresholds, code, reason, advice)
