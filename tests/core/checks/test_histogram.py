"""core/checks/histogram.py counts exactly what ``np.bincount`` counts, faster."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from core.checks.histogram import grey_histogram, histogram_mean, histogram_std


@pytest.mark.parametrize(
    "view",
    [
        lambda g: g,
        lambda g: g[::2, ::3],  # strided, as the blur check's sampled ranges
        lambda g: g[:1, :7],
        lambda g: g.ravel(),  # 1-D: counted by numpy
        lambda g: g[:0],  # empty
    ],
)
def test_counts_equal_bincount(view: object) -> None:
    photo = np.asarray(data.camera(), dtype=np.uint8)  # type: ignore[no-untyped-call]
    grey = view(photo)  # type: ignore[operator]
    counts = grey_histogram(grey)
    assert counts.dtype == np.int64
    assert counts.shape == (256,)
    np.testing.assert_array_equal(counts, np.bincount(grey.ravel(), minlength=256))
    assert counts.sum() == grey.size


def test_a_level_filling_the_image_is_counted_whole() -> None:
    grey = np.full((3000, 4000), 251, np.uint8)
    counts = grey_histogram(grey)
    assert counts[251] == 12_000_000
    assert counts.sum() == 12_000_000


def test_histogram_mean_is_numpys_float64_mean_to_the_bit() -> None:
    rng = np.random.default_rng(0)
    photo = np.asarray(data.camera(), dtype=np.uint8)  # type: ignore[no-untyped-call]
    greys = [photo, photo[::3, 1::2], np.full((7, 3), 200, np.uint8)]
    greys += [rng.integers(0, 256, (h, w), dtype=np.uint8) for h, w in [(1, 1), (33, 17)]]
    for grey in greys:
        assert histogram_mean(grey_histogram(grey)) == float(grey.mean(dtype=np.float64))


def test_an_image_past_float32_counts_is_counted_exactly_in_bands() -> None:
    # 2**24 + 4096 pixels: one OpenCV histogram would round its float32 counts; the bands
    # each stay exact, and a level filling most of the image is counted to the pixel.
    rng = np.random.default_rng(1)
    grey = np.full((4097, 4096), 251, np.uint8)
    grey[::7] = rng.integers(0, 256, (len(range(0, 4097, 7)), 4096), dtype=np.uint8)
    np.testing.assert_array_equal(grey_histogram(grey), np.bincount(grey.ravel(), minlength=256))


def test_histogram_std_is_numpys_float64_std_within_rounding() -> None:
    rng = np.random.default_rng(2)
    photo = np.asarray(data.camera(), dtype=np.uint8)  # type: ignore[no-untyped-call]
    greys = [photo, photo[::3, 1::2], rng.integers(0, 256, (33, 17), dtype=np.uint8)]
    for grey in greys:
        expected = float(grey.std(dtype=np.float64))
        assert histogram_std(grey_histogram(grey)) == pytest.approx(expected, rel=1e-14)
    assert histogram_std(grey_histogram(np.full((7, 3), 200, np.uint8))) == 0.0
