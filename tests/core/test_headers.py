"""Header reads agree with the decoders, and the decode budget refuses what it must."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from bench.hostile_inputs import carrier, jpeg_segments, png_image, saved, split_scans
from core import builtin_profile, score
from core.budget import DECODE_BUDGET_BYTES, JpegFrame, check_jpeg_decode
from core.decode import BLOCKINESS_MAX_PIXELS, _blockiness_window
from core.errors import TooComplexError, TooManyPixelsError
from core.headers import jpeg_frame, tiff_layout, webp_size
from core.pixels import rgb_to_grey, to_grey, to_rgb
from core.schema import ErrorCode

DEFAULT = builtin_profile("default")


@pytest.mark.parametrize("mode", ["L", "RGB"])
@pytest.mark.parametrize("progressive", [False, True])
def test_jpeg_frame_matches_what_pillow_wrote(mode: str, progressive: bool) -> None:
    data = saved(carrier(333, 222).convert(mode), "JPEG", quality=80, progressive=progressive)
    frame = jpeg_frame(data)
    assert frame is not None
    assert (frame.width, frame.height, frame.progressive) == (333, 222, progressive)
    assert len(frame.sampling) == (1 if mode == "L" else 3)
    if progressive:
        assert frame.scans == len(split_scans(jpeg_segments(data)[-1][1])) > 1


@pytest.mark.parametrize("options", [{"lossless": True}, {"quality": 70}])
def test_webp_size_matches_pillow(options: dict[str, object]) -> None:
    data = saved(carrier(301, 199), "WEBP", **options)
    assert webp_size(data) == (301, 199)
    animated = saved(carrier(301, 199), "WEBP", save_all=True, append_images=[carrier(301, 199)])
    assert webp_size(animated) == Image.open(io.BytesIO(animated)).size


def test_tiff_layout_matches_pillow() -> None:
    data = saved(carrier(300, 200), "TIFF")
    width, height, strips = tiff_layout(data) or (0, 0, 0)
    with Image.open(io.BytesIO(data)) as image:
        assert (width, height) == image.size
        assert strips == len(image.tile)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P", "CMYK"])
def test_band_grey_equals_the_whole_image_conversion(mode: str) -> None:
    # Tall and wide enough for many bands; the reference's OpenCV rounding on the whole image.
    rgb = np.random.default_rng(5).integers(0, 256, (1500, 1300, 3), dtype=np.uint8)
    image = Image.fromarray(rgb).convert(mode)
    whole = cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2GRAY)
    assert np.array_equal(to_grey(image), whole)
    assert np.array_equal(to_rgb(image), np.asarray(image.convert("RGB")))
    if mode in ("RGB", "RGBA"):
        assert np.array_equal(rgb_to_grey(np.asarray(image)), whole)


def test_blockiness_window_is_bounded_and_on_the_block_grid() -> None:
    grey = np.zeros((9000, 7001), dtype=np.uint8)
    window = _blockiness_window(grey)
    assert window.size <= BLOCKINESS_MAX_PIXELS
    assert window.shape[0] % 8 == 0 and window.shape[1] % 8 == 0
    offset = window.__array_interface__["data"][0] - grey.__array_interface__["data"][0]
    top, left = divmod(offset, grey.shape[1])
    assert top % 8 == 0 and left % 8 == 0
    small = np.zeros((3000, 4000), dtype=np.uint8)
    assert _blockiness_window(small) is small


def test_progressive_jpeg_budget_counts_coefficients_and_scans() -> None:
    # 12 MP 4:2:0: 0.28 M blocks, 36 MB of coefficients; fine with ten scans.
    phone = JpegFrame(4000, 3000, True, ((2, 2), (1, 1), (1, 1)), scans=10)
    check_jpeg_decode(phone)
    with pytest.raises(TooComplexError):
        check_jpeg_decode(JpegFrame(4000, 3000, True, phone.sampling, scans=1000))
    side = int((DECODE_BUDGET_BYTES / 128 * 64) ** 0.5) + 64
    with pytest.raises(TooManyPixelsError):
        check_jpeg_decode(JpegFrame(side, side, True, ((1, 1),), scans=2))
    check_jpeg_decode(JpegFrame(30000, 3000, False, phone.sampling, scans=1))


def test_a_png_over_the_decode_budget_is_refused_before_decoding() -> None:
    # 45 MP RGB is within max_pixels but needs ~270 MB as Pillow RGB plus grey.
    verdict = score(png_image(7500, 6000, 8, 2), DEFAULT)
    assert verdict.error is not None and verdict.error.code is ErrorCode.TOO_MANY_PIXELS
    assert "budget" in verdict.error.message
