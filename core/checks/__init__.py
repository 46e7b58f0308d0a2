"""The checks. Each module holds one pure function ``<name>_finding(..., rule) -> Finding``.

A check measures and judges; weighting, vetoes and timing are the engine's job
(:mod:`core.engine`), so each check stays a small function that is easy to test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.schema import Scalar


@dataclass(frozen=True, slots=True)
class Finding:
    """What one check concluded. ``score`` is 0-100: 100 when passed, partial credit otherwise.

    ``margin`` is how far the deciding value lies from its threshold, as a signed fraction
    of the threshold: positive on the passing side, negative on the failing side; with
    several conditions, the closest (or most violated) one. None when nothing was measured.
    """

    passed: bool
    score: float
    values: Mapping[str, Scalar]
    thresholds: Mapping[str, Scalar]
    reason_code: str
    margin: float | None = None


def relative_margin(value: float, threshold: float, *, at_least: bool) -> float:
    """Signed distance of ``value`` from ``threshold`` as a fraction of the threshold.

    Positive when the value is on the passing side (``>= threshold`` for ``at_least``,
    ``<= threshold`` otherwise). A zero threshold is measured against 1, so the margin
    stays finite.
    """
    scale = abs(threshold) or 1.0
    return (value - threshold) / scale if at_least else (threshold - value) / scale


#: The reason codes each check gives, by check name. Renderers key their texts by
#: ``<check>.<code>`` (``runtime/locales``), so a new code needs a text there too
#: (``tests/runtime/test_catalogues.py`` checks both ways).
REASON_CODES: dict[str, tuple[str, ...]] = {
    "blur": ("sharp", "too_blurry"),
    "resolution": ("sufficient", "too_small"),
    "brightness": ("ok", "too_dark", "too_bright", "poor_tonal_quality"),
    "exposure": (
        "ok",
        "highlights_clipped",
        "washed_out",
        "shadows_clipped",
        "underexposed",
        "low_contrast",
    ),
    "metadata": ("ok", "missing_exif", "incomplete_exif"),
    "compression": ("ok", "over_compressed", "blocky", "not_applicable"),
    "privacy": ("nothing_to_redact", "redaction_required", "people_or_vehicles"),
    "subject": ("subject_found", "subject_not_found", "subject_missing"),
}
