"""Sharpness: how steep the photo's sharpest edges are, at a fixed analysis scale.

Two measures, chosen by ``BlurRule.measure``:

``laplacian_variance`` (the reference system's)
    Variance of the Laplacian. It scales with contrast, resolution, noise, JPEG
    artefacts and with how much of the frame is featureless, so a sharp photo of a
    pothole under a clear sky scores as "blurry" and a blurred photo with sensor
    noise scores as "sharp". ``top_fraction < 1`` averages only the most detailed
    tiles; ``top_fraction = 1`` at full resolution is exactly the reference measure.

``edge_slope`` (ours, see docs/SCORING.md)
    At the strongest edges, the steepest grey-level slope as a share of the local
    contrast: ``|gradient| / (max - min in a small window)``, in percent per pixel.
    A perfect step edge scores about 50, a Gaussian blur of sigma ``s`` analysis
    pixels about ``40 / s``. It is independent of contrast and exposure (a dark
    night scene scores like a bright one), smooth areas are not edges so they
    neither help nor hurt, and noise barely moves it: noise raises the local range
    as much as the gradient. Each of four edge orientations is measured apart and
    the second lowest is the value, so motion blur, which smears edges across one
    or two directions only, is caught too. Edges are pixels whose local range
    reaches a contrast floor: a fixed one where the scene has enough such edges, and
    otherwise one relative to the scene's own contrast and noise, so a darker or
    hazier copy of a scene keeps its edges instead of reading as "no edge at all".
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, TypeVar

import cv2
import numpy as np
from numpy.typing import NDArray

from core.checks import Finding, relative_margin
from core.checks.histogram import grey_histogram
from core.quantiles import linear_percentile
from core.rules import BlurRule

#: Each measure's share when the rule leaves ``top_fraction`` unset: the most detailed
#: fifth of the tiles, or the strongest twentieth of the edge pixels per orientation.
TILE_TOP_FRACTION = 0.2
EDGE_TOP_FRACTION = 0.05

#: The relative contrast floor of a scene without enough edges at the fixed one: half
#: the local range of its most contrasted 0.5 % of windows (a copy at 0.7x exposure
#: keeps the same edges), but at least three times the range of its smoothest quarter
#: (noise and JPEG grain, so a blurred noisy photo is not measured on its noise) and
#: never under 12 grey levels.
_RELATIVE_SHARE, _RELATIVE_QUANTILE = 0.5, 0.995
_NOISE_MULTIPLE, _NOISE_QUANTILE = 3.0, 0.25
_LOWEST_FLOOR = 12.0
#: Fewest sampled edge pixels per orientation that are measured.
_MIN_EDGES = 50


def laplacian(grey: NDArray[np.uint8]) -> NDArray[np.float32]:
    """4-neighbour Laplacian (OpenCV ``ksize=1``, as the reference system), float32."""
    return np.asarray(cv2.Laplacian(grey, cv2.CV_32F, ksize=1), dtype=np.float32)


#: Pixels whose Laplacian is taken and squared at a time (whole rows, at least one):
#: about 10 MB however large the photo.
_VARIANCE_BAND_PIXELS = 1 << 20


def laplacian_variance(
    grey: NDArray[np.uint8], *, band_pixels: int = _VARIANCE_BAND_PIXELS
) -> float:
    """Variance of the 4-neighbour Laplacian over the whole image: the reference measure.

    A profile that analyses at full resolution runs it on every pixel of the largest
    photos the decoder admits, so it must not hold a whole-image Laplacian, let alone
    the float64 copies ``var`` makes (12 bytes a pixel: 480 MB at 40 MP). The Laplacian
    is taken a band of rows at a time, each with its neighbouring rows so that it equals
    the whole image's there, as int16 (of 8-bit grey it is an integer in [-1020, 1020]);
    its sums are exact integers, and the variance is rounded once.

    Parameters
    ----------
    grey : (H, W) uint8 array, luminance 0-255.
    band_pixels : pixels per band (whole rows, at least one); the result does not
        depend on it.

    Returns
    -------
    float >= 0, in squared grey levels; 0 for a uniform or empty image.
    """
    height, width = grey.shape
    count = grey.size
    if count == 0:
        return 0.0
    band_rows = max(1, band_pixels // width)
    total = total_sq = 0
    for top in range(0, height, band_rows):
        bottom = min(height, top + band_rows)
        above = min(top, 1)
        lap = cv2.Laplacian(grey[top - above : min(height, bottom + 1)], cv2.CV_16S, ksize=1)
        band = lap[above : above + bottom - top].astype(np.int64).ravel()
        total += int(band.sum())
        total_sq += int(np.dot(band, band))
    return float(Fraction(count * total_sq - total * total, count * count))


def sharpness(
    grey: NDArray[np.uint8], *, tile_size: int = 64, top_fraction: float = TILE_TOP_FRACTION
) -> float:
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
    rows, cols = grey.shape[0] // tile_size, grey.shape[1] // tile_size
    if top_fraction >= 1.0 or rows * cols < 2:
        return laplacian_variance(grey)
    lap = laplacian(grey)
    tiles = lap[: rows * tile_size, : cols * tile_size].reshape(rows, tile_size, cols, tile_size)
    mean = tiles.mean(axis=(1, 3), dtype=np.float64)
    mean_sq = np.square(tiles, dtype=np.float32).mean(axis=(1, 3), dtype=np.float64)
    variances = (mean_sq - mean * mean).ravel()
    k = max(1, math.ceil(top_fraction * variances.size))
    return float(np.partition(variances, variances.size - k)[-k:].mean())


def edge_sharpness(
    grey: NDArray[np.uint8],
    *,
    window: int = 7,
    min_contrast: int = 40,
    top_fraction: float = EDGE_TOP_FRACTION,
    percentile: float = 90.0,
    min_edges: int = _MIN_EDGES,
) -> float:
    """Steepness of the sharpest edges, in percent of the local contrast per pixel.

    Parameters
    ----------
    grey : (H, W) uint8 array, luminance 0-255, at the analysis scale.
    window : edge of the square window (pixels) over which local contrast is the
        grey-level range; it must span a blurred edge, so a few times the blur to detect.
        Statistics are sampled on every other row and column.
    min_contrast : pixels whose local range is below this (grey levels) are not edges:
        smooth areas, sky and noise are ignored. A scene with too few such edges is
        measured at its own relative floor instead (:func:`relative_floor`).
    top_fraction : in (0, 1]; share of the edge pixels with the strongest gradient,
        per orientation, that are measured.
    percentile : which percentile of slope / contrast over those pixels is the value.
    min_edges : orientations with fewer sampled edge pixels than this are skipped; at
        least this many of the strongest are measured in the others.

    Returns
    -------
    float in [0, ~71]; higher is sharper. About 50 for a perfect step edge,
    ``40 / sigma`` for a Gaussian blur of ``sigma`` pixels; 0 when the image has no
    edge at all (a uniform image).
    """
    params = (window, min_contrast, top_fraction, percentile, min_edges)
    value = _edge_sharpness(grey, *params)
    if value is None:
        value = _edge_sharpness(grey, *params, relative=True)
    return 0.0 if value is None else value


def relative_floor(contrast: NDArray[np.uint8], min_contrast: float) -> float:
    """The contrast floor of a low-contrast scene, from its own local-range distribution.

    Parameters
    ----------
    contrast : uint8 array of local grey-level ranges (max - min over a window), 0-255.
    min_contrast : the fixed floor, in grey levels; the result never exceeds it.

    Returns
    -------
    float in [12, ``min_contrast``] grey levels: half the range of the most contrasted
    0.5 % of windows, raised to three times the range of the smoothest quarter (the
    noise level). Scaling a scene's contrast by ``k`` scales it by ``k`` too, until a
    bound is reached, so a darker copy keeps the same edges.
    """
    cumulative = np.cumsum(grey_histogram(contrast))
    total = cumulative[-1]
    strong = int(np.searchsorted(cumulative, total * _RELATIVE_QUANTILE))
    noise = int(np.searchsorted(cumulative, total * _NOISE_QUANTILE))
    floor = max(_LOWEST_FLOOR, _NOISE_MULTIPLE * noise, _RELATIVE_SHARE * strong)
    return min(float(min_contrast), floor)


def _edge_sharpness(
    grey: NDArray[np.uint8],
    window: int,
    min_contrast: int,
    top_fraction: float,
    percentile: float,
    min_edges: int,
    *,
    relative: bool = False,
) -> float | None:
    """:func:`edge_sharpness` at one floor, or None when no orientation holds enough edges.

    ``relative`` uses the scene's :func:`relative_floor` instead of ``min_contrast``.
    """
    params = (window, min_contrast, top_fraction, percentile, min_edges)
    return _EdgeScale(grey, params).value(relative=relative)


class _EdgeScale:
    """The edge-slope measure of one image under one rule, each piece computed once.

    Why: the blur check may ask one image several times (the fine scale at the fixed
    floor, the coarse one as its fallback and again for the coarse check, the fine one at
    the scene's own floor). The local ranges do not depend on the floor, so they are
    computed on the first ask, and each floor's value once.
    An instance lives for one check: the engine keeps nothing across calls.
    """

    def __init__(self, grey: NDArray[np.uint8], params: tuple[int, int, float, float, int]):
        self._grey = grey
        self._window, self._min_contrast, self._top, self._percentile, self._min_edges = params
        self._ranges: NDArray[np.uint8] | None = None
        self._values: dict[bool, float | None] = {}

    def value(self, *, relative: bool = False) -> float | None:
        """The value at the fixed floor, or at the scene's own (``relative``); None: too few edges."""
        if relative not in self._values:
            self._values[relative] = self._measure(relative)
        return self._values[relative]

    def _measure(self, relative: bool) -> float | None:
        if min(self._grey.shape) < 3:
            return None
        # Statistics on every other row and column, and only where there is an edge: the
        # 16-bit Sobel and the uint8 range run on the whole image, the float work on few pixels.
        if self._ranges is None:
            self._ranges = sampled_range(self._grey, self._window)
        contrast = self._ranges
        floor = relative_floor(contrast, self._min_contrast) if relative else self._min_contrast
        sampled = np.flatnonzero(contrast >= floor)  # edge pixels, row by row
        if sampled.size < self._min_edges:
            return None
        # Each full-size Sobel is dropped as soon as it is sampled: the second one then
        # reuses the first one's memory instead of touching fresh pages.
        gx, gy = _sampled_sobel(self._grey, 1, 0), _sampled_sobel(self._grey, 0, 1)
        return _steepest_slope(
            gx.take(sampled).astype(np.float32),
            gy.take(sampled).astype(np.float32),
            contrast.take(sampled),
            self._top,
            self._percentile,
            self._min_edges,
        )


def _sampled_sobel(grey: NDArray[np.uint8], dx: int, dy: int) -> NDArray[np.int16]:
    """The 3x3 Sobel derivative of ``grey`` (int16, exact) on every other row and column."""
    full = np.asarray(cv2.Sobel(grey, cv2.CV_16S, dx, dy, ksize=3), dtype=np.int16)
    return every_other_column(full[::2])


_Sample = TypeVar("_Sample", bound=np.integer[Any])


def every_other_column(rows: NDArray[_Sample]) -> NDArray[_Sample]:
    """``rows[:, ::2]`` as a new C-contiguous array.

    Parameters
    ----------
    rows : (H, W) integer array (uint8 and int16 here) whose rows are contiguous (any
        row stride, so ``image[::2]`` is fine); others are copied the plain way.

    Returns
    -------
    Array of shape ``(H, (W + 1) // 2)``, same dtype and values.

    Notes
    -----
    Why: copying or indexing a strided sample goes one element at a time through numpy's
    strided loops (about 0.3 ms for a 2000 px image sampled on every other row and
    column). With an even width, each pair of samples along a row is read as one unsigned
    little-endian number of twice the width and narrowed to its low half, which is the
    first of the pair: a vectorised cast that moves the same bytes on any byte order.
    """
    if rows.shape[1] % 2 or rows.strides[1] != rows.itemsize or rows.itemsize > 4:
        return np.ascontiguousarray(rows[:, ::2])
    pair, half = np.dtype(f"<u{2 * rows.itemsize}"), np.dtype(f"<u{rows.itemsize}")
    return rows.view(pair).astype(half).view(rows.dtype)


def sampled_range(grey: NDArray[np.uint8], window: int) -> NDArray[np.uint8]:
    """Local grey-level range (max - min over a ``window`` square) on every other row and column.

    Returns a uint8 array of shape ``((H + 1) // 2, (W + 1) // 2)``, equal to
    ``(dilate(grey) - erode(grey))[::2, ::2]``. A square's maximum is the maximum of its
    columns' maxima, so the window is taken in two passes, the second on the sampled rows
    only: about a third less work than dilating and eroding the whole image.
    """
    tall = cv2.getStructuringElement(cv2.MORPH_RECT, (1, window))
    wide = cv2.getStructuringElement(cv2.MORPH_RECT, (window, 1))
    high = cv2.dilate(cv2.dilate(grey, tall)[::2], wide)
    low = cv2.erode(cv2.erode(grey, tall)[::2], wide)
    # Never below 0: a window's max is at least its min. The rows are already sampled.
    return every_other_column(np.subtract(high, low))


def _steepest_slope(
    gx: NDArray[np.float32],
    gy: NDArray[np.float32],
    ranges: NDArray[np.uint8],
    top_fraction: float,
    percentile: float,
    min_edges: int,
) -> float | None:
    """The second-worst orientation's slope percentile over its strongest edges, in percent.

    ``gx``, ``gy`` are the Sobel gradients and ``ranges`` the local ranges of the edge
    pixels; None when no orientation holds ``min_edges`` of them.
    """
    magnitude = np.sqrt(gx * gx + gy * gy) * 0.125  # grey levels per pixel
    per_orientation = []
    for members in _orientation_bins(gx, gy):
        if members.size < min_edges:
            continue
        k = min(members.size, max(min_edges, math.ceil(top_fraction * members.size)))
        strongest = members[np.argpartition(magnitude[members], members.size - k)[-k:]]
        # The slope (gradient over local range) only of the edges measured: a few percent.
        slope = magnitude[strongest] / ranges[strongest].astype(np.float32)
        per_orientation.append(linear_percentile(slope, percentile))
    if not per_orientation:
        return None
    # The worst orientation but one: motion blur lowers one or two of the four, while a
    # single orientation with few edges (a scene of upright poles) does not decide alone.
    per_orientation.sort()
    return 100.0 * per_orientation[1 if len(per_orientation) > 1 else 0]


_TAN_22_5 = math.tan(math.radians(22.5))


def _orientation_bins(gx: NDArray[np.float32], gy: NDArray[np.float32]) -> list[NDArray[np.intp]]:
    """Indices of gradients near 0, 45, 90 and 135 degrees (edges 180 apart are alike)."""
    ax, ay = np.abs(gx), np.abs(gy)
    across = ay <= _TAN_22_5 * ax  # gradient along x: a vertical edge
    along = ax <= _TAN_22_5 * ay  # gradient along y: a horizontal edge
    diagonal = ~(across | along)
    rising = (gx * gy) > 0
    return [
        np.flatnonzero(across),
        np.flatnonzero(diagonal & rising),
        np.flatnonzero(along),
        np.flatnonzero(diagonal & ~rising),
    ]


def blur_value(
    grey: NDArray[np.uint8], rule: BlurRule, fine: NDArray[np.uint8] | None = None
) -> float:
    """The sharpness with the measure and parameters the rule selects.

    ``edge_slope`` is measured on ``fine`` (the finer blur scale) when there is one and it
    holds enough edges at the fixed contrast floor; a low-contrast scene (fog, dusk) whose
    edges only reach that floor at the coarser analysis scale is measured there. A scene
    with too few edges at either is measured on the finer image at its own relative floor
    (:func:`relative_floor`), where a blur is plainest; 0 only for an image with no edge.
    """
    return _measured(grey, rule, fine)[0]


def coarse_value(
    grey: NDArray[np.uint8], rule: BlurRule, fine: NDArray[np.uint8] | None = None
) -> float | None:
    """The edge slope at the coarser analysis scale, when the rule checks it there too.

    None when the rule sets no ``coarse_threshold``, when there is no finer image or it is
    no larger (a photo at or under the analysis scale is measured at one scale only), or
    when the coarse image has too few edges at the fixed contrast floor to measure (fog):
    then the fine measure decides alone.
    Why a second scale: a blurred photo with sensor noise keeps steep one-pixel steps at
    the fine scale, while at half that scale the noise is averaged away and the blur shows.
    """
    if not _checks_coarse(grey, rule, fine):
        return None
    return _EdgeScale(grey, _edge_params(rule)).value()


def _checks_coarse(grey: NDArray[np.uint8], rule: BlurRule, fine: NDArray[np.uint8] | None) -> bool:
    if rule.measure != "edge_slope" or not rule.coarse_threshold or fine is None:
        return False
    return bool(fine.shape[0] > grey.shape[0] or fine.shape[1] > grey.shape[1])


def _measured(
    grey: NDArray[np.uint8], rule: BlurRule, fine: NDArray[np.uint8] | None
) -> tuple[float, float | None]:
    """:func:`blur_value` and :func:`coarse_value`, sharing each image's edge measures."""
    if rule.measure != "edge_slope":
        top = TILE_TOP_FRACTION if rule.top_fraction is None else rule.top_fraction
        return sharpness(grey, tile_size=rule.tile_size, top_fraction=top), None
    params = _edge_params(rule)
    coarse = _EdgeScale(grey, params)
    scales = [coarse] if fine is None else [_EdgeScale(fine, params), coarse]
    attempts = [(scale, False) for scale in scales] + [(scales[0], True)]
    value = next(
        (v for scale, relative in attempts if (v := scale.value(relative=relative)) is not None),
        0.0,
    )
    return value, coarse.value() if _checks_coarse(grey, rule, fine) else None


def _edge_params(rule: BlurRule) -> tuple[int, int, float, float, int]:
    top = EDGE_TOP_FRACTION if rule.top_fraction is None else rule.top_fraction
    return (rule.edge_window, rule.edge_min_contrast, top, rule.edge_percentile, _MIN_EDGES)


def blur_finding(
    grey: NDArray[np.uint8], rule: BlurRule, fine: NDArray[np.uint8] | None = None
) -> Finding:
    """Pass at ``threshold`` or more; partial credit as the reference: ``80 * value / threshold``.

    With a ``coarse_threshold``, the reported sharpness is the lower of the fine value and
    the coarse one rescaled to the fine threshold, so one number, one threshold and one
    margin still tell the citizen and the clerk how sharp the photo is.
    """
    fine_value, coarse = _measured(grey, rule, fine)
    value = fine_value
    if coarse is not None:
        value = min(fine_value, coarse * rule.threshold / rule.coarse_threshold)
    values: dict[str, float | int | str | bool | None] = {
        "sharpness": round(value, 2),
        "measure": rule.measure,
    }
    if coarse is not None:
        values |= {"fine_sharpness": round(fine_value, 2), "coarse_sharpness": round(coarse, 2)}
    passed = value >= rule.threshold
    thresholds = {"min_sharpness": rule.threshold}
    if rule.coarse_threshold and rule.measure == "edge_slope":
        thresholds["min_coarse_sharpness"] = rule.coarse_threshold
    margin = relative_margin(value, rule.threshold, at_least=True)
    if passed:
        return Finding(True, 100.0, values, thresholds, "sharp", margin=margin)
    # Credited on the value as reported (2 decimals), as the reference does.
    shown = round(value, 2)
    return Finding(
        passed=False,
        score=min(80.0, (shown / rule.threshold) * 80.0) if shown > 0 else 0.0,
        values=values,
        thresholds=thresholds,
        reason_code="too_blurry",
        margin=margin,
    )
