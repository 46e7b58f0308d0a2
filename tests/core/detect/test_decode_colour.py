"""The single decode also yields colour for the detector, without changing the grey image."""

from __future__ import annotations

import numpy as np
import pytest

from core.decode import decode_image
from tests.builders.images import encode, exif_bytes, sharp_photo

LIMIT = 100_000_000


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("size", [(4000, 3000), (1600, 1200), (700, 500)])
def test_grey_is_identical_with_and_without_colour(fmt: str, size: tuple[int, int]) -> None:
    data = encode(sharp_photo(*size), fmt)
    plain = decode_image(data, max_pixels=LIMIT, analysis_long_side=1000)
    colour = decode_image(data, max_pixels=LIMIT, analysis_long_side=1000, colour_long_side=640)
    assert plain.rgb is None
    np.testing.assert_array_equal(colour.grey, plain.grey)
    assert colour.rgb is not None and colour.rgb.dtype == np.uint8
    assert max(colour.rgb.shape[:2]) == min(640, max(size))
    assert colour.rgb.shape[2] == 3


def test_colour_is_rgb_in_channel_order() -> None:
    red = np.zeros((600, 800, 3), np.uint8)
    red[..., 0] = 220
    image = decode_image(
        encode(red, "PNG"), max_pixels=LIMIT, analysis_long_side=1000, colour_long_side=640
    )
    assert image.rgb is not None
    assert image.rgb[..., 0].mean() > 200 and image.rgb[..., 2].mean() < 20


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_colour_follows_the_exif_orientation_like_grey(orientation: int) -> None:
    data = encode(sharp_photo(1600, 1200), exif=exif_bytes(orientation=orientation))
    image = decode_image(data, max_pixels=LIMIT, analysis_long_side=1000, colour_long_side=640)
    assert image.rgb is not None
    grey_h, grey_w = image.grey.shape
    rgb_h, rgb_w = image.rgb.shape[:2]
    assert (grey_h > grey_w) == (rgb_h > rgb_w) == (image.height > image.width)
    # The colour image, turned to grey and scaled, looks like the grey one.
    small = image.rgb.mean(axis=2)
    step_y, step_x = grey_h / rgb_h, grey_w / rgb_w
    sample = image.grey[(np.arange(rgb_h) * step_y).astype(int)][
        :, (np.arange(rgb_w) * step_x).astype(int)
    ]
    assert np.corrcoef(small.ravel(), sample.ravel())[0, 1] > 0.9
