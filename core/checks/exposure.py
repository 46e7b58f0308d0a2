"""Exposure: tonal range and clipped shadows/highlights, from one 256-bin histogram.

Plus one spatial figure, the flat blown area: how much of the subject has no detail left.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from core.checks import Finding, relative_margin
from core.checks.histogram import grey_histogram
from core.rules import ExposureRule

#: Grey levels from which a pixel counts as near-white (a washed-out photo has many).
_NEAR_WHITE = 231


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


def flat_blown_share(grey: NDArray[np.uint8], level: int, block: int) -> float:
    """Share of the frame in ``block`` x ``block`` tiles blown flat, the sky left out.

    Parameters
    ----------
    grey : (H, W) uint8 luminance 0-255 at the analysis scale, display orientation.
    level : grey level from which a pixel is blown (the profile's ``highlight_level``).
    block : tile side in pixels at the analysis scale.

    Returns
    -------
    Share in [0, 1] of the tiles (of those that fit whole in the frame) whose every pixel
    is at or above ``level``, not counting tiles joined (side by side, through such tiles)
    to the top row of tiles; 0.0 for a frame smaller than one tile.

    Notes
    -----
    Why a tile, not a pixel count: an over-exposed capture loses whole surfaces (a face,
    the moon's disc, a lit wall) to one flat white, while a good photo clips in specks
    (specular glints, lamps, white paper between printed figures) that leave every tile
    some detail. Why not the top: a sky blown behind a correctly exposed subject is the
    usual compromise of a high-contrast scene, not a failed photo; a blown region that
    reaches the top edge is taken to be sky. The tiles' minimum is taken band by band
    (rows, then columns), about 0.1 ms at 1000 px.
    """
    rows, columns = int(grey.shape[0]) // block, int(grey.shape[1]) // block
    if rows == 0 or columns == 0:
        return 0.0
    bands = grey[: rows * block, : columns * block].reshape(rows, block, columns * block)
    tile_min = bands.min(axis=1).reshape(rows, columns, block).min(axis=2)
    flat: NDArray[np.bool_] = tile_min >= level
    tiles = rows * columns
    if not flat[0].any():
        return int(np.count_nonzero(flat)) / tiles
    _, labels = cv2.connectedComponents(flat.view(np.uint8), connectivity=4)
    sky = np.isin(labels, np.unique(labels[0][flat[0]]))
    return int(np.count_nonzero(flat & ~sky)) / tiles


@dataclass(frozen=True, slots=True)
class _Tones:
    """What the exposure conditions read from one histogram."""

    dark_end: int  # 0.5th percentile
    bright_end: int  # 99.5th percentile
    shadows: float  # share at or below the shadow level
    highlights: float  # share at or above the highlight level
    near_white: float  # share at or above 231
    mean: float
    flat_blown: float | None  # flat_blown_share; None when the profile doesn't ask for it

    @property
    def spread(self) -> int:
        return self.bright_end - self.dark_end


def _tones(grey: NDArray[np.uint8], rule: ExposureRule) -> _Tones:
    hist = grey_histogram(grey)
    total = max(1, int(hist.sum()))
    dark_end, bright_end = tone_quantiles(hist)
    return _Tones(
        dark_end=dark_end,
        bright_end=bright_end,
        shadows=float(hist[: rule.shadow_level + 1].sum()) / total,
        highlights=float(hist[rule.highlight_level :].sum()) / total,
        near_white=float(hist[_NEAR_WHITE:].sum()) / total,
        mean=float(np.dot(hist, np.arange(256))) / total,
        flat_blown=(
            None
            if rule.max_flat_blown is None
            else flat_blown_share(grey, rule.highlight_level, rule.flat_blown_block)
        ),
    )


def _is_dim(t: _Tones, rule: ExposureRule) -> bool:
    """Highlights that stay grey; or, in a very dark scene, lights too dim to show it."""
    if rule.min_bright_end is not None and t.bright_end < rule.min_bright_end:
        return True
    return (
        rule.dark_scene_mean is not None
        and rule.dark_scene_min_bright_end is not None
        and t.mean < rule.dark_scene_mean
        and t.bright_end < rule.dark_scene_min_bright_end
    )


def _is_washed(t: _Tones, rule: ExposureRule) -> bool:
    """Nothing dark left, *and* much of it pushed to white: a pale but detailed scene passes."""
    if rule.max_dark_end is None or t.dark_end <= rule.max_dark_end:
        return False
    return rule.washed_min_near_white is None or t.near_white > rule.washed_min_near_white


def exposure_finding(
    grey: NDArray[np.uint8],
    rule: ExposureRule,
    colour_clip: float | None = None,
    *,
    channel_clip: float | None = None,
) -> Finding:
    """Partial credit as the reference: ``70 * range / credit_range``.

    Parameters
    ----------
    grey : (H, W) uint8 array, luminance 0-255, at the analysis scale.
    rule : the profile's exposure rule.
    colour_clip : share in [0, 1] of pixels with at least two colour channels blown;
        ``None`` when not measured (not a JPEG, a grey JPEG).
    channel_clip : share in [0, 1] of pixels with at least one colour channel blown;
        ``None`` when not measured.

    Returns
    -------
    Finding; with ``clip_penalty`` a failure's score is further scaled by allowed/actual
    clipping and by how far the tone ends miss, so a badly exposed photo scores low
    enough to veto. Blown colours fail the check above ``rule.max_colour_clip`` (two
    channels) or ``rule.max_channel_clip`` (one, when more than
    ``rule.channel_clip_min_colour`` also has two): colours blow out before grey does.
    A subject blown flat fails above ``rule.max_flat_blown`` (see :func:`flat_blown_share`).
    """
    t = _tones(grey, rule)
    values = _values(t, colour_clip, channel_clip)
    thresholds = _thresholds(rule)
    # One blown channel counts only where two are blown somewhere too (not on white wool).
    deciding_channel_clip = (
        channel_clip if _over(colour_clip, rule.channel_clip_min_colour) else None
    )
    margin = _margin(t, rule, colour_clip, deciding_channel_clip)
    flags = _Flags(
        flat=t.spread < rule.min_dynamic_range,
        dark_clip=t.shadows > rule.max_shadow_clip,
        bright_clip=t.highlights > rule.max_highlight_clip
        or _over(colour_clip, rule.max_colour_clip)
        or _over(deciding_channel_clip, rule.max_channel_clip)
        or _over(t.flat_blown, rule.max_flat_blown),
        dim=_is_dim(t, rule),
        washed=_is_washed(t, rule),
    )
    if not flags.any:
        return Finding(True, 100.0, values, thresholds, "ok", margin=margin)
    code = _reason_code(flags)
    return Finding(False, _score(t, flags, rule), values, thresholds, code, margin=margin)


def _thresholds(rule: ExposureRule) -> dict[str, float | int | str | bool | None]:
    thresholds: dict[str, float | int | str | bool | None] = {
        "min_dynamic_range": rule.min_dynamic_range,
        "max_shadow_clip_fraction": rule.max_shadow_clip,
        "max_highlight_clip_fraction": rule.max_highlight_clip,
        "min_bright_end": rule.min_bright_end,
        "max_dark_end": rule.max_dark_end,
    }
    for key, limit in (
        ("max_colour_clip_fraction", rule.max_colour_clip),
        ("max_channel_clip_fraction", rule.max_channel_clip),
        ("max_flat_blown_fraction", rule.max_flat_blown),
    ):
        if limit is not None:
            thresholds[key] = limit
    return thresholds


def _over(share: float | None, limit: float | None) -> bool:
    """A measured share above a limit the profile sets."""
    return share is not None and limit is not None and share > limit


def _values(
    t: _Tones, colour_clip: float | None, channel_clip: float | None
) -> dict[str, float | int | str | bool | None]:
    values: dict[str, float | int | str | bool | None] = {
        "dynamic_range": t.spread,
        "shadow_clip_fraction": round(t.shadows, 4),
        "highlight_clip_fraction": round(t.highlights, 4),
        "near_white_fraction": round(t.near_white, 4),
        "dark_end": t.dark_end,
        "bright_end": t.bright_end,
    }
    if colour_clip is not None:
        values["colour_clip_fraction"] = round(colour_clip, 4)
    if channel_clip is not None:
        values["channel_clip_fraction"] = round(channel_clip, 4)
    if t.flat_blown is not None:
        values["flat_blown_fraction"] = round(t.flat_blown, 4)
    return values


@dataclass(frozen=True, slots=True)
class _Flags:
    flat: bool
    dark_clip: bool
    bright_clip: bool
    dim: bool
    washed: bool

    @property
    def any(self) -> bool:
        return self.flat or self.dark_clip or self.bright_clip or self.dim or self.washed


def _score(t: _Tones, flags: _Flags, rule: ExposureRule) -> float:
    credit = rule.credit_dynamic_range or rule.min_dynamic_range
    if not credit:
        score = 70.0
    elif t.spread <= 0:  # as the reference: a photo of one flat tone earns 30, not 0
        score = 30.0
    else:
        score = min(70.0, (t.spread / credit) * 70.0)
    if not rule.clip_penalty:
        return score
    for actual, allowed in (
        (t.shadows, rule.max_shadow_clip),
        (t.highlights, rule.max_highlight_clip),
        (t.flat_blown, rule.max_flat_blown),
    ):
        if actual is not None and allowed is not None and actual > allowed:
            score *= allowed / actual
    if flags.dim:
        score *= min(1.0, t.bright_end / max(1.0, rule.min_bright_end or 255.0))
    if flags.washed and rule.max_dark_end is not None:
        score *= (255.0 - t.dark_end) / max(1.0, 255.0 - rule.max_dark_end)
    return score


def _reason_code(flags: _Flags) -> str:
    """The failure the citizen can act on first: blown highlights, crushed shadows, dim, flat."""
    if flags.bright_clip or flags.washed:
        return "highlights_clipped" if flags.bright_clip else "washed_out"
    if flags.dark_clip:
        return "shadows_clipped"
    if flags.dim:
        return "underexposed"
    return "low_contrast"


def _margin(
    t: _Tones, rule: ExposureRule, colour_clip: float | None, channel_clip: float | None
) -> float:
    """The closest (or most violated) of the exposure conditions, as a signed fraction."""
    margins = [
        relative_margin(t.spread, rule.min_dynamic_range, at_least=True),
        relative_margin(t.shadows, rule.max_shadow_clip, at_least=False),
        relative_margin(t.highlights, rule.max_highlight_clip, at_least=False),
    ]
    for share, limit in (
        (colour_clip, rule.max_colour_clip),
        (channel_clip, rule.max_channel_clip),
        (t.flat_blown, rule.max_flat_blown),
    ):
        if share is not None and limit is not None:
            margins.append(relative_margin(share, limit, at_least=False))
    if rule.min_bright_end is not None:
        margins.append(relative_margin(t.bright_end, rule.min_bright_end, at_least=True))
    near_white_needed = rule.washed_min_near_white
    if rule.max_dark_end is not None and (
        near_white_needed is None or t.near_white > near_white_needed
    ):  # the dark end only decides once the photo is also near-white
        margins.append(relative_margin(t.dark_end, rule.max_dark_end, at_least=False))
    return min(margins)
