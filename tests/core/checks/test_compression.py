"""Properties of the compression check in core/checks/compression.py."""

from __future__ import annotations

import io

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image, ImageFilter
from skimage import data

from core import builtin_profile, score
from core.checks.compression import blockiness, compression_finding, jpeg_quality
from core.rules import CompressionRule


def _default_rule() -> CompressionRule:
    rule = builtin_profile("default").checks.compression
    assert rule is not None
    return rule


DEFAULT = _default_rule()


@pytest.fixture(scope="module")
def photo() -> NDArray[np.uint8]:
    return np.asarray(data.astronaut(), dtype=np.uint8)  # type: ignore[no-untyped-call]


def _jpeg(rgb: NDArray[np.uint8], quality: int) -> Image.Image:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer)


@pytest.mark.parametrize("quality", [10, 15, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 95])
def test_quality_estimate_within_5_of_the_truth(photo: NDArray[np.uint8], quality: int) -> None:
    tables = _jpeg(photo, quality).quantization  # type: ignore[attr-defined]
    assert abs(jpeg_quality(tables[0]) - quality) <= 5


@pytest.mark.parametrize(
    ("quality", "passed"), [(5, False), (10, False), (20, False), (50, True), (92, True)]
)
def test_heavy_compression_fails_default(
    photo: NDArray[np.uint8], quality: int, passed: bool
) -> None:
    tables = {k: list(v) for k, v in _jpeg(photo, quality).quantization.items()}  # type: ignore[attr-defined]
    finding = compression_finding(tables, None, DEFAULT)
    assert finding.passed is passed
    if not passed:
        assert finding.reason_code == "over_compressed"
        assert finding.score < DEFAULT.veto_below  # type: ignore[operator]


def test_blockiness_of_a_lossless_copy_reveals_a_low_quality_past(photo: NDArray[np.uint8]) -> None:
    grey = np.asarray(Image.fromarray(photo).convert("L"))
    resaved = np.asarray(_jpeg(photo, 10).convert("L"))
    assert blockiness(grey) < DEFAULT.max_blockiness < blockiness(resaved)
    assert not compression_finding(None, resaved, DEFAULT).passed
    assert compression_finding(None, grey, DEFAULT).passed


def test_no_history_is_not_applicable() -> None:
    finding = compression_finding(None, None, DEFAULT)
    assert finding.passed
    assert finding.reason_code == "not_applicable"


def test_a_lossless_copy_of_a_smooth_good_jpeg_is_not_blocky(photo: NDArray[np.uint8]) -> None:
    """Fog or sky saved once at quality 85: faint seams, next to nothing inside the blocks."""
    soft = np.asarray(Image.fromarray(photo).filter(ImageFilter.GaussianBlur(16)), np.float32)
    smooth = np.clip(128 + (soft - 128) / 2, 0, 255).astype(np.uint8)  # and half the contrast
    good = np.asarray(_jpeg(smooth, 85).convert("L"))
    bad = np.asarray(_jpeg(smooth, 10).convert("L"))
    assert blockiness(good) < DEFAULT.max_blockiness < blockiness(bad)
    assert compression_finding(None, good, DEFAULT).passed
    assert compression_finding(None, bad, DEFAULT).reason_code == "blocky"


def test_blockiness_of_a_flat_image_is_one() -> None:
    assert blockiness(np.full((64, 64), 90, np.uint8)) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("tables", "quality", "passed"),
    [
        ([[1] * 64, [1] * 64], 99.1, True),  # the finest tables there are
        ([[255] * 64, [255] * 64], 1.0, False),  # the coarsest 8-bit ones
        ([[65535] * 64, [300] * 64], 1.0, False),  # 16-bit tables (extended sequential)
        ([[1] * 64, [2] * 64, [3] * 64, [4] * 64], 99.1, True),  # four tables, the most allowed
    ],
    ids=["all-1", "all-255", "16-bit", "four-tables"],
)
def test_extreme_quantisation_tables_get_a_quality_not_an_error(
    photo: NDArray[np.uint8], tables: list[list[int]], quality: float, passed: bool
) -> None:
    """A valid JPEG built around hostile tables: the estimate stays in 1-100, the photo scored."""
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "JPEG", qtables=tables)

    verdict = score(buffer.getvalue(), builtin_profile("default"))

    assert verdict.error is None
    compression = verdict.checks["compression"]
    assert compression.values["jpeg_quality"] == quality
    assert compression.passed is passed
