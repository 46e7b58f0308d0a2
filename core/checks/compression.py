"""Compression: detail destroyed by heavy JPEG compression.

For a JPEG the quantisation tables say how hard it was compressed: we estimate
the libjpeg quality factor (1-100) by comparing the luminance table with the
standard one (ITU T.81 Annex K). A lossless file (PNG, TIFF, BMP) may still hold
a re-saved low-quality JPEG; there we measure 8x8 blockiness instead.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from core.checks import Finding, relative_margin
from core.quantiles import median
from core.rules import CompressionRule

#: ITU T.81 Annex K luminance table; multiset of values, so the scan order doesn't matter.
_STANDARD_LUMA = np.array(
    [
        16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
        14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
        18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
        49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
    ],
    dtype=np.float64,
)  # fmt: skip


def jpeg_quality(luma_table: list[int]) -> float:
    """Estimate the libjpeg quality (1-100) that produced a 64-entry luminance table.

    Tables are compared entry by entry after sorting both, which makes the estimate
    independent of zig-zag or natural order; entries clamped at 255 (baseline JPEG)
    are ignored because they no longer carry the scale.
    """
    table = np.sort(np.asarray(luma_table, dtype=np.float64))
    standard = np.sort(_STANDARD_LUMA)
    if table.size != 64:
        return 100.0
    usable = table < 255
    if not usable.any():
        return 1.0
    scale = median(table[usable] * 100.0 / standard[usable])
    quality = (200.0 - scale) / 2.0 if scale <= 100.0 else 5000.0 / scale
    return float(np.clip(quality, 1.0, 100.0))


#: Grey levels added to both mean steps of :func:`blockiness`: below one level a step is
#: the 8-bit rounding of a smooth gradient, not detail, and must not make a ratio.
_STEP_FLOOR = 1.0


def blockiness(grey: NDArray[np.uint8]) -> float:
    """Ratio of grey steps across 8x8 block borders to steps inside blocks.

    Parameters
    ----------
    grey : (H, W) uint8 array, luminance 0-255, at full resolution on the stored 8x8 grid.

    Returns
    -------
    float > 0; ~1.0 for natural or losslessly stored images, well above 1 (1.6-4) for
    heavy JPEG blocking. Images smaller than two blocks return 1.0.

    Notes
    -----
    Each mean step (grey levels per pixel) gets one level added before the division:
    in a smooth scene (fog, sky) saved once as a good JPEG, the steps inside blocks are
    a fraction of a level, and a faint seam of half a level would otherwise read as
    heavy blocking. A quality-10 copy has steps of several levels across its borders.
    """
    if min(grey.shape) < 16:
        return 1.0
    signal = grey.astype(np.float32)
    ratios = []
    for axis in (0, 1):
        steps = np.abs(np.diff(signal, axis=axis)).mean(axis=1 - axis, dtype=np.float64)
        border = float(steps[7::8].mean())
        inside = float(np.delete(steps, np.s_[7::8]).mean())
        ratios.append((border + _STEP_FLOOR) / (inside + _STEP_FLOOR))
    return float(np.mean(ratios))


def compression_finding(
    quantization: dict[int, list[int]] | None,
    full_grey: NDArray[np.uint8] | None,
    rule: CompressionRule,
) -> Finding:
    thresholds = {"min_jpeg_quality": rule.min_quality, "max_blockiness": rule.max_blockiness}
    if quantization and 0 in quantization:
        quality = jpeg_quality(quantization[0])
        values: dict[str, float | int | str | bool | None] = {"jpeg_quality": round(quality, 1)}
        margin = relative_margin(quality, rule.min_quality, at_least=True)
        if quality >= rule.min_quality:
            return Finding(True, 100.0, values, thresholds, "ok", margin=margin)
        score = min(80.0, 80.0 * quality / rule.min_quality)
        return Finding(False, score, values, thresholds, "over_compressed", margin=margin)
    if full_grey is not None:
        value = blockiness(full_grey)
        values = {"blockiness": round(value, 3)}
        margin = relative_margin(value, rule.max_blockiness, at_least=False)
        if value <= rule.max_blockiness:
            return Finding(True, 100.0, values, thresholds, "ok", margin=margin)
        score = min(80.0, 80.0 * rule.max_blockiness / value)
        return Finding(False, score, values, thresholds, "blocky", margin=margin)
    return Finding(True, 100.0, {"jpeg_quality": None}, thresholds, "not_applicable")
