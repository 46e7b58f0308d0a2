"""Properties of the sharpness measures in core/checks/blur.py, on a real photo."""

from __future__ import annotations

import functools
import itertools
from typing import Any

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray
from skimage import data

from core import builtin_profile
from core.checks.blur import (
    _edge_sharpness,
    blur_finding,
    blur_value,
    coarse_value,
    edge_sharpness,
    every_other_column,
    laplacian,
    laplacian_variance,
    relative_floor,
    sampled_range,
    sharpness,
)
from core.decode import decode_image
from tests.builders.images import encode, gaussian_blurred, sharp_photo

DEFAULT = builtin_profile("default").checks.blur


@pytest.fixture(scope="module")
def photo() -> NDArray[np.uint8]:
    """scikit-image's cameraman: a real, sharp 512x512 grey photo."""
    return np.asarray(data.camera(), dtype=np.uint8)  # type: ignore[no-untyped-call]


def _blur(grey: NDArray[np.uint8], sigma: float) -> NDArray[np.uint8]:
    return np.asarray(cv2.GaussianBlur(grey, (0, 0), sigma), dtype=np.uint8)


def _noisy(grey: NDArray[np.uint8], sigma: float) -> NDArray[np.uint8]:
    rng = np.random.default_rng(0)
    return np.clip(grey + rng.normal(0, sigma, grey.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("measure", ["edge", "laplacian"])
def test_sharpness_drops_monotonically_with_blur(photo: NDArray[np.uint8], measure: str) -> None:
    def value(g: NDArray[np.uint8]) -> float:
        return edge_sharpness(g) if measure == "edge" else sharpness(g)

    values = [value(_blur(photo, s)) if s else value(photo) for s in (0, 0.8, 1.2, 2.0, 3.0)]
    assert all(a > b for a, b in itertools.pairwise(values)), values


@pytest.mark.parametrize("level", [0, 128, 255])
def test_uniform_image_scores_zero(level: int) -> None:
    flat = np.full((200, 300), level, np.uint8)
    assert edge_sharpness(flat) == 0.0
    assert sharpness(flat) == 0.0
    assert sharpness(flat, top_fraction=1.0) == 0.0


def test_reference_measure_is_whole_image_laplacian_variance(photo: NDArray[np.uint8]) -> None:
    expected = float(cv2.Laplacian(photo, cv2.CV_64F, ksize=1).var())
    assert sharpness(photo, top_fraction=1.0) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.7])
def test_smooth_area_does_not_lower_edge_sharpness(
    photo: NDArray[np.uint8], fraction: float
) -> None:
    sky = photo.copy()
    rows = int(sky.shape[0] * fraction)
    sky[:rows] = np.linspace(150, 210, rows, dtype=np.float32)[:, None].astype(np.uint8)
    assert edge_sharpness(sky) >= 0.9 * edge_sharpness(photo)
    assert blur_finding(sky, DEFAULT).passed


def test_edge_sharpness_ignores_contrast(photo: NDArray[np.uint8]) -> None:
    dark = (photo.astype(np.float32) * 0.4).astype(np.uint8)  # a night-like, low-contrast copy
    assert edge_sharpness(dark) == pytest.approx(edge_sharpness(photo), rel=0.1)


@pytest.mark.parametrize("noise", [0.0, 4.0, 8.0])
def test_noise_does_not_make_a_blurred_photo_pass(photo: NDArray[np.uint8], noise: float) -> None:
    blurred = _blur(photo, 2.0)
    finding = blur_finding(_noisy(blurred, noise) if noise else blurred, DEFAULT)
    assert not finding.passed
    assert finding.reason_code == "too_blurry"
    assert finding.score < DEFAULT.veto_below  # type: ignore[operator]


@pytest.mark.parametrize("angle", [0, 45, 90, 135])
def test_motion_blur_is_caught_in_any_direction(photo: NDArray[np.uint8], angle: int) -> None:
    line = np.zeros((9, 9), np.float32)
    line[4, :] = 1.0 / 9
    rotation = cv2.getRotationMatrix2D((4, 4), angle, 1.0)
    kernel = np.asarray(cv2.warpAffine(line, rotation, (9, 9)), dtype=np.float32)
    smeared = np.asarray(cv2.filter2D(photo, -1, kernel / kernel.sum()), np.uint8)
    assert edge_sharpness(smeared) < DEFAULT.threshold < edge_sharpness(photo)


def test_sharp_photo_passes_default(photo: NDArray[np.uint8]) -> None:
    finding = blur_finding(photo, DEFAULT)
    assert finding.passed
    assert finding.values["measure"] == "edge_slope"
    assert float(finding.values["sharpness"]) >= DEFAULT.threshold  # type: ignore[arg-type]


def test_sharp_subject_on_a_soft_background_passes(photo: NDArray[np.uint8]) -> None:
    """Shallow depth of field: a sharp centre (a fifth of the frame) in a blurred scene."""
    soft = _blur(photo, 4.0)
    subject = soft.copy()
    h, w = photo.shape
    top, left, rows, cols = int(h * 0.28), int(w * 0.28), int(h * 0.45), int(w * 0.45)
    subject[top : top + rows, left : left + cols] = photo[top : top + rows, left : left + cols]
    assert blur_finding(subject, DEFAULT).passed
    assert not blur_finding(soft, DEFAULT).passed  # nothing sharp anywhere


def test_the_fine_scale_sees_a_blur_the_analysis_scale_cannot() -> None:
    """A 2 px blur on a 2.4k photo is under 1 px at 1000 px, but plain at 2000 px."""
    sharp = sharp_photo(2400, 1600)
    blurred = gaussian_blurred(sharp, 2.0)
    decode = functools.partial(
        decode_image, max_pixels=10**8, analysis_long_side=1000, fine_long_side=2000
    )
    coarse_blurred = blur_finding(decode(encode(blurred)).grey, DEFAULT)
    fine_sharp, fine_blurred = (decode(encode(image)) for image in (sharp, blurred))
    assert fine_sharp.fine_grey is not None and fine_blurred.fine_grey is not None
    assert blur_finding(fine_sharp.grey, DEFAULT, fine_sharp.fine_grey).passed
    assert not blur_finding(fine_blurred.grey, DEFAULT, fine_blurred.fine_grey).passed
    fine_value = blur_finding(fine_blurred.grey, DEFAULT, fine_blurred.fine_grey).values
    assert float(coarse_blurred.values["sharpness"]) > float(fine_value["sharpness"])  # type: ignore[arg-type]


def test_a_scene_without_edges_at_the_fine_scale_is_measured_at_the_coarse_one(
    photo: NDArray[np.uint8],
) -> None:
    featureless = np.full((1000, 1500), 90, np.uint8)  # fog: no step reaches the contrast floor
    assert blur_value(photo, DEFAULT, featureless) == pytest.approx(edge_sharpness(photo))
    assert blur_value(photo, DEFAULT, photo) == pytest.approx(edge_sharpness(photo))


def _hazy(grey: NDArray[np.uint8], contrast: float, level: float = 110.0) -> NDArray[np.uint8]:
    """Fog or dusk: the scene's contrast squeezed around ``level``."""
    out = level + (grey.astype(np.float32) - 128.0) * contrast
    return np.asarray(np.clip(np.rint(out), 0, 255), dtype=np.uint8)


@pytest.mark.parametrize("gain", [1.0, 0.7, 0.5])
def test_a_low_contrast_scene_keeps_its_edges_at_any_exposure(
    photo: NDArray[np.uint8], gain: float
) -> None:
    """No step reaches the fixed floor in fog; a darker copy must not read as edgeless."""
    hazy = _hazy(photo, 0.15)
    copy = _hazy(photo, 0.15 * gain, 110.0 * gain)
    assert _edge_sharpness(copy, 7, DEFAULT.edge_min_contrast, 0.05, 90.0, 50) is None
    value = blur_value(copy, DEFAULT)
    assert value == pytest.approx(blur_value(hazy, DEFAULT), rel=0.1)
    assert value >= DEFAULT.threshold
    assert value == pytest.approx(edge_sharpness(copy))


@pytest.mark.parametrize("noise", [1.5, 3.0])
def test_a_blurred_low_contrast_scene_stays_blurred_with_noise(
    photo: NDArray[np.uint8], noise: float
) -> None:
    """The relative floor sits above the noise, so noise does not pass for detail."""
    blurred = _noisy(_hazy(_blur(photo, 2.0), 0.15), noise)
    finding = blur_finding(blurred, DEFAULT)
    assert (finding.passed, finding.reason_code) == (False, "too_blurry")
    assert float(finding.values["sharpness"]) < 0.8 * DEFAULT.threshold  # type: ignore[arg-type]


def test_relative_floor_scales_with_the_scene_between_its_bounds() -> None:
    """Mostly smooth windows (range 2) and a few edges (30-59): the edges set the floor."""
    ranges = np.concatenate([np.full(9000, 2, np.uint8), np.repeat(np.arange(30, 60), 30)])
    ranges = ranges.astype(np.uint8)
    floor = relative_floor(ranges, 40)
    assert floor == pytest.approx(0.5 * 58)  # half the range at the 99.5th percentile
    darker = (ranges * 0.5).astype(np.uint8)
    assert relative_floor(darker, 40) == pytest.approx(floor / 2, abs=0.5)
    assert relative_floor(ranges * 2, 40) == 40  # a contrasted scene keeps the fixed floor
    assert relative_floor(np.full(1000, 3, np.uint8), 40) == 12  # flat: never under 12
    grainy = np.concatenate([np.full(800, 10, np.uint8), np.full(200, 30, np.uint8)])
    assert relative_floor(grainy, 40) == 30  # three times the smoothest quarter's range


def _sensor_noise(rgb: NDArray[np.uint8], gain: float) -> NDArray[np.uint8]:
    """Shot and read noise, variance ``gain * level + 4``, as a small sensor adds it."""
    level = rgb.astype(np.float32)
    sigma = np.sqrt(gain * level + 4.0)
    noise = np.random.default_rng(1).standard_normal(level.shape).astype(np.float32)
    return np.asarray(np.clip(level + noise * sigma, 0, 255), dtype=np.uint8)


def test_noise_on_a_blurred_photo_passes_the_fine_scale_but_not_the_coarse_one() -> None:
    """Noise steepens one-pixel steps at 2000 px; at 1000 px it is averaged away."""
    rule = DEFAULT.model_copy(update={"threshold": 30.0, "coarse_threshold": 27.0})
    decode = functools.partial(
        decode_image, max_pixels=10**8, analysis_long_side=1000, fine_long_side=2000
    )
    sharp = sharp_photo(2400, 1600)
    noisy_blur = decode(encode(_sensor_noise(gaussian_blurred(sharp, 4.8), 6.0)))
    clean = decode(encode(sharp))
    assert noisy_blur.fine_grey is not None and clean.fine_grey is not None

    fine = blur_value(noisy_blur.grey, rule, noisy_blur.fine_grey)
    coarse = coarse_value(noisy_blur.grey, rule, noisy_blur.fine_grey)
    assert coarse is not None
    assert fine >= rule.threshold > coarse * rule.threshold / rule.coarse_threshold
    finding = blur_finding(noisy_blur.grey, rule, noisy_blur.fine_grey)
    assert (finding.passed, finding.reason_code) == (False, "too_blurry")
    assert finding.values["sharpness"] == round(coarse * 30.0 / 27.0, 2)
    assert finding.values["fine_sharpness"] == round(fine, 2)
    assert finding.thresholds == {"min_sharpness": 30.0, "min_coarse_sharpness": 27.0}
    assert finding.margin == pytest.approx((coarse * 30.0 / 27.0 - 30.0) / 30.0, abs=1e-6)

    sharp_finding = blur_finding(clean.grey, rule, clean.fine_grey)
    assert sharp_finding.passed
    assert float(sharp_finding.values["coarse_sharpness"]) >= 27.0  # type: ignore[arg-type]
    # Measured at one scale only (no finer image), the gate does not apply.
    assert coarse_value(noisy_blur.grey, rule) is None
    assert "coarse_sharpness" not in blur_finding(noisy_blur.grey, rule).values


@pytest.mark.parametrize(
    "shape", [(512, 512), (101, 37), (101, 38), (6, 9), (6, 8), (1, 5), (1, 2)]
)
@pytest.mark.parametrize("window", [3, 7])
def test_sampled_range_is_the_sampled_dilate_minus_erode(
    photo: NDArray[np.uint8], shape: tuple[int, int], window: int
) -> None:
    """The two-pass sampled range is the whole-image morphological range, value for value."""
    grey = np.ascontiguousarray(photo[: shape[0], 100 : 100 + shape[1]])
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (window, window))
    whole = cv2.subtract(cv2.dilate(grey, kernel), cv2.erode(grey, kernel))[::2, ::2]
    sampled = sampled_range(grey, window)
    assert sampled.dtype == np.uint8
    np.testing.assert_array_equal(sampled, whole)
    assert sampled.max() > 0 or grey.min() == grey.max()


@pytest.mark.parametrize("band_pixels", [1, 511, 512, 1024 + 1, 7 * 512, 512 * 512])
def test_laplacian_variance_is_the_whole_images_whatever_the_bands(
    photo: NDArray[np.uint8], band_pixels: int
) -> None:
    """Bands of one row up to the whole image give one value, numpy's variance of the
    whole-image Laplacian up to its float64 rounding: the reference measure, in bounded
    memory."""
    grey = photo[:, :512]
    whole = float(laplacian(grey).var(dtype=np.float64))
    assert laplacian_variance(grey, band_pixels=band_pixels) == pytest.approx(whole, rel=1e-14)
    assert laplacian_variance(grey, band_pixels=band_pixels) == laplacian_variance(grey)
    assert laplacian_variance(grey[:1]) == pytest.approx(
        float(laplacian(grey[:1]).var(dtype=np.float64)), rel=1e-14
    )
    assert laplacian_variance(np.zeros((0, 5), np.uint8)) == 0.0


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int64])
@pytest.mark.parametrize("width", [1, 2, 7, 8, 512])
@pytest.mark.parametrize("step", [1, 2])
def test_every_other_column_is_the_strided_sample_made_contiguous(
    dtype: type[np.integer[Any]], width: int, step: int
) -> None:
    """Even widths take the 16/32-bit pair path, odd ones numpy's copy; the values (negative
    int16 included) and their order are the strided slice's, whatever the row stride."""
    rng = np.random.default_rng(width)
    info = np.iinfo(dtype)
    image = rng.integers(info.min, info.max, (9, width), dtype=dtype, endpoint=True)
    rows = image[::step]
    sampled = every_other_column(rows)
    assert sampled.dtype == dtype and sampled.flags.c_contiguous
    np.testing.assert_array_equal(sampled, rows[:, ::2])
    # A row whose samples are not contiguous goes through the plain copy, to the same values.
    np.testing.assert_array_equal(every_other_column(image[:, ::-1]), image[:, ::-1][:, ::2])
    if dtype is not np.uint8 and width >= 8:
        assert sampled.min() < 0
