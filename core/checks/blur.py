"""Sharpness: variance of the Laplacian, made robust to smooth areas.

The reference system takes the variance of the Laplacian over the whole photo at
full resolution. That number scales with resolution, JPEG artefacts and with how
much of the frame is featureless: a sharp photo of a pothole under a clear sky
scores as "blurry". We measure at a fixed analysis scale (see ``Rules.analysis_long_side``)
and take the mean variance of the most detailed tiles, so sky, water and walls
neither help nor hurt. ``top_fraction = 1`` gives back the reference measure.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from core.checks import Finding
from core.rules import BlurRule


def laplacian(grey: NDArray[np.uint8]) -> NDArray[np.float32]:
    """4-neighbour Laplacian (OpenCV ``ksize=1``, as the reference system), float32."""
    return np.asarray(cv2.Laplacian(grey, cv2.CV_32F, ksize=1), dtype=np.float32)


def sharpness(grey: NDArray[np.uint8], *, tile_size: int = 64, top_fraction: float = 0.2) -> float:
    """Mean Laplacian variance of the ``top_fraction`` most detailed square tiles.

    Parameters
    ----------
    grey : (H, W) uint8 array, luminance 0-255.
    tile_size : tile edge in pixels; images smaller than one tile use the whole image.
    top_fraction : in (0, 1]; 1.0 is the plain whole-image variance.

    Returns
    -------
    float >= 0, in squared grey levels; higher is sharper. A uniform image gives 0.
    """
    lap = laplacian(grey)
    rows, cols = lap.shape[0] // tile_size, lap.shape[1] // tile_size
    if top_fraction >= 1.0 or rows * cols < 2:
        return float(lap.var(dtype=np.float64))
    tiles = lap[: rows * tile_size, : cols * tile_size].reshape(rows, tile_size, cols, tile_size)
    mean = tiles.mean(axis=(1, 3), dtype=np.float64)
    mean_sq = np.square(tiles, dtype=np.float32).mean(axis=(1, 3), dtype=np.float64)
    variances = (mean_sq - mean * mean).ravel()
    k = max(1, math.ceil(top_fraction * variances.size))
    return float(np.partition(variances, variances.size - k)[-k:].mean())


def blur_finding(grey: NDArray[np.uint8], rule: BlurRule) -> Finding:
    value = sharpness(grey, tile_size=rule.tile_size, top_fraction=rule.top_fraction)
    passed = value >= rule.threshold
    thresholds = {"min_sharpness": rule.threshold}
    values = {"sharpness": round(value, 2)}
    if passed:
        return Finding(True, 100.0, values, thresholds, "sharp", "The photo is in focus.")
    return Finding(
        passed=False,
        score=min(80.0, 80.0 * value / rule.threshold),
        values=values,
        thresholds=thresholds,
        reason_code="too_blurry",
        reason=f"The photo is blurred (sharpness {value:.0f}, needs {rule.threshold:.0f}).",
        recommendation="Hold the phone steady, tap the subject to focus, and retake the photo.",
    )
