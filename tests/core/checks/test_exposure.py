"""Properties of the exposure check in core/checks/exposure.py, on a real photo."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from skimage import data

from core import builtin_profile
from core.checks import Finding
from core.checks.exposure import exposure_finding, flat_blown_share, tone_quantiles
from core.checks.histogram import grey_histogram
from core.decode import DecodedImage, decode_image
from core.rules import ExposureRule
from tests.builders.images import encode, sharp_photo

DEFAULT = builtin_profile("default").checks.exposure
REFERENCE = builtin_profile("reference").checks.exposure


@pytest.fixture(scope="module")
def photo() -> NDArray[np.uint8]:
    """The astronaut photo as grey: bright suit, dark background, well exposed."""
    rgb = np.asarray(data.astronaut(), dtype=np.float32)  # type: ignore[no-untyped-call]
    luma: NDArray[np.uint8] = np.asarray(
        rgb @ np.array([0.299, 0.587, 0.114], np.float32), dtype=np.float32
    ).astype(np.uint8)
    return luma


def _scale(grey: NDArray[np.uint8], gain: float, offset: float = 0.0) -> NDArray[np.uint8]:
    return np.asarray(np.clip(grey.astype(np.float32) * gain + offset, 0, 255), dtype=np.uint8)


def test_well_exposed_photo_passes(photo: NDArray[np.uint8]) -> None:
    assert exposure_finding(photo, DEFAULT).passed


@pytest.mark.parametrize("power", [2.4, 3.0])
def test_dark_night_scene_keeps_its_lights_and_passes(
    photo: NDArray[np.uint8], power: float
) -> None:
    night = (255.0 * (photo / 255.0) ** power).astype(np.uint8)
    assert night.mean() < 65
    assert exposure_finding(night, DEFAULT).passed


@pytest.mark.parametrize("gain", [0.25, 0.15])
def test_underexposed_photo_fails_and_vetoes(photo: NDArray[np.uint8], gain: float) -> None:
    finding = exposure_finding(_scale(photo, gain, -5), DEFAULT)
    assert not finding.passed
    assert finding.reason_code == "underexposed"
    assert finding.score < DEFAULT.veto_below  # type: ignore[operator]


@pytest.mark.parametrize("clipped", [0.3, 0.5])
def test_blown_out_photo_fails_and_vetoes(photo: NDArray[np.uint8], clipped: float) -> None:
    level = float(np.quantile(photo, 1 - clipped))
    finding = exposure_finding(_scale(photo, 255.0 / level), DEFAULT)
    assert not finding.passed
    assert finding.reason_code == "highlights_clipped"
    assert finding.score < DEFAULT.veto_below  # type: ignore[operator]


def test_washed_out_photo_fails(photo: NDArray[np.uint8]) -> None:
    finding = exposure_finding(_scale(photo, 0.3, 175), DEFAULT)
    assert not finding.passed
    assert finding.reason_code == "washed_out"


def test_tone_quantiles(photo: NDArray[np.uint8]) -> None:
    lo, hi = tone_quantiles(grey_histogram(photo))
    assert (lo, hi) == (int(np.quantile(photo, 0.005)), int(np.quantile(photo, 0.995))) or (
        abs(lo - np.quantile(photo, 0.005)) <= 1 and abs(hi - np.quantile(photo, 0.995)) <= 1
    )


def test_reference_ignores_the_new_tone_ends(photo: NDArray[np.uint8]) -> None:
    """The reference rule sets neither min_bright_end nor max_dark_end: dim photos fail on range only."""
    assert REFERENCE.min_bright_end is None and REFERENCE.max_dark_end is None
    finding = exposure_finding(_scale(photo, 0.5), REFERENCE)
    assert finding.reason_code != "underexposed"


def test_pale_detailed_scene_passes(photo: NDArray[np.uint8]) -> None:
    """High key: the darkest tones are light grey, but nothing is pushed to white."""
    pale = _scale(photo, 0.25, 165)
    assert tone_quantiles(grey_histogram(pale))[0] > DEFAULT.max_dark_end  # type: ignore[operator]
    finding = exposure_finding(pale, DEFAULT)
    assert finding.passed
    assert finding.values["flat_blown_fraction"] == 0.0


def test_washed_out_x2_5_fails_and_vetoes(photo: NDArray[np.uint8]) -> None:
    finding = exposure_finding(_scale(photo, 2.5), DEFAULT)
    assert not finding.passed
    assert finding.score < DEFAULT.veto_below  # type: ignore[operator]


def test_a_dark_scene_needs_its_lights() -> None:
    """Mean 10: a night scene with lamps passes; the same scene without them does not."""
    scene = np.full((600, 800), 8, np.uint8)
    scene[100:130, 100:700] = 95  # dim grey highlights
    lit = scene.copy()
    lit[300:340, 200:300] = 250  # a street lamp (0.8 % of the frame)
    assert float(scene.mean()) < DEFAULT.dark_scene_mean  # type: ignore[operator]
    assert exposure_finding(lit, DEFAULT).passed
    finding = exposure_finding(scene, DEFAULT)
    assert (finding.passed, finding.reason_code) == (False, "underexposed")


def test_every_check_records_its_margin(photo: NDArray[np.uint8]) -> None:
    passed, failed = exposure_finding(photo, DEFAULT), exposure_finding(_scale(photo, 0.2), DEFAULT)
    assert passed.margin is not None and passed.margin > 0
    assert failed.margin is not None and failed.margin < 0


def _blown_jpeg(channels: tuple[int, ...], share: float = 0.3) -> DecodedImage:
    """A real photo with its top ``share`` pushed to 255 in ``channels``, decoded as the engine does."""
    rgb = sharp_photo(4000, 3000)
    rgb[: int(share * rgb.shape[0]), :, list(channels)] = 255
    return decode_image(encode(rgb), max_pixels=10**8, analysis_long_side=1000, colour_clip=True)


def test_two_blown_colour_channels_fail_where_one_passes() -> None:
    """A yellow blown to (255, 255, b) is grey ~240: only the colour share catches it."""
    two = _blown_jpeg((0, 1))
    one = _blown_jpeg((0,))
    limit = DEFAULT.max_colour_clip
    assert limit is not None and two.colour_clip is not None and one.colour_clip is not None
    assert two.colour_clip > 0.27 > limit > 0.1 > one.colour_clip
    assert exposure_finding(two.grey, DEFAULT).passed  # grey alone misses it
    failed = exposure_finding(two.grey, DEFAULT, two.colour_clip)
    assert not failed.passed
    assert failed.reason_code == "highlights_clipped"
    assert exposure_finding(one.grey, DEFAULT, one.colour_clip).passed
    assert (
        exposure_finding(two.grey, REFERENCE, two.colour_clip).passed
        == exposure_finding(two.grey, REFERENCE).passed
    )


def _layered_jpeg(layers: list[tuple[tuple[int, ...], float]]) -> DecodedImage:
    """A real photo with its top rows pushed to 255, per (channels, share of rows) layer."""
    rgb = sharp_photo(4000, 3000)
    for channels, share in layers:
        rgb[: int(share * rgb.shape[0]), :, list(channels)] = 255
    return decode_image(encode(rgb), max_pixels=10**8, analysis_long_side=1000, colour_clip=True)


def _judged(image: DecodedImage, rule: ExposureRule = DEFAULT) -> Finding:
    return exposure_finding(image.grey, rule, image.colour_clip, channel_clip=image.channel_clip)


def test_one_channel_blown_over_much_of_the_frame_fails() -> None:
    """x2.5 blows one channel wherever it was above 102, and two on part of the frame."""
    over = _layered_jpeg([((0,), 0.6), ((0, 1), 0.15)])
    limit, colour = DEFAULT.max_channel_clip, DEFAULT.channel_clip_min_colour
    assert limit is not None and over.channel_clip is not None and over.colour_clip is not None
    assert over.channel_clip > 0.55 > limit
    assert colour < over.colour_clip < 0.2 < DEFAULT.max_colour_clip  # type: ignore[operator]
    failed = _judged(over)
    assert (failed.passed, failed.reason_code) == (False, "highlights_clipped")
    assert failed.margin is not None and failed.margin < 0
    assert failed.values["channel_clip_fraction"] == pytest.approx(over.channel_clip, abs=1e-4)
    assert _judged(over, REFERENCE).passed == exposure_finding(over.grey, REFERENCE).passed


@pytest.mark.parametrize(
    "layers",
    [[((0,), 0.3)], [((0,), 0.6)]],
    ids=["a third of one channel (a red sign, a sky)", "one channel of a white subject"],
)
def test_one_blown_channel_alone_passes(layers: list[tuple[tuple[int, ...], float]]) -> None:
    image = _layered_jpeg(layers)
    assert image.colour_clip is not None and image.colour_clip < DEFAULT.channel_clip_min_colour
    passed = _judged(image)
    assert passed.passed
    assert passed.margin is not None and passed.margin > 0


def test_flat_blown_share_counts_whole_tiles_off_the_top() -> None:
    """4 x 4 tiles of 16 px: only tiles blown in every pixel count, and none joined to the top."""
    frame = np.zeros((64, 64), np.uint8)
    aligned = frame.copy()
    aligned[16:48, 16:48] = 255
    assert flat_blown_share(aligned, 251, 16) == 4 / 16
    shifted = frame.copy()
    shifted[17:49, 16:48] = 255  # the first row of tiles keeps one dark pixel row
    assert flat_blown_share(shifted, 251, 16) == 2 / 16
    just_under = aligned.copy()
    just_under[16:48, 16:48] = 250
    assert flat_blown_share(just_under, 251, 16) == 0.0
    sky_and_subject = frame.copy()
    sky_and_subject[:32, :32] = 255  # joined to the top edge: a sky
    sky_and_subject[32:64, 48:64] = 255  # a subject, touching the sky only at a corner
    assert flat_blown_share(sky_and_subject, 251, 16) == 2 / 16
    assert flat_blown_share(frame[:15], 251, 16) == 0.0


def _with_disc(photo: NDArray[np.uint8], centre_row: int, radius: int = 70) -> NDArray[np.uint8]:
    """The photo with a disc blown to white (a face, the moon): 5-6 % of the frame."""
    rows, columns = np.mgrid[: photo.shape[0], : photo.shape[1]]
    blown = photo.copy()
    blown[(rows - centre_row) ** 2 + (columns - photo.shape[1] // 2) ** 2 < radius**2] = 255
    return blown


def test_a_subject_blown_flat_fails_under_the_pixel_limits(photo: NDArray[np.uint8]) -> None:
    """x2.5 of a dark photo clips only its lit subject: under the 20 % clip limit, but flat."""
    assert exposure_finding(photo, DEFAULT).values["flat_blown_fraction"] == 0.0
    blown = _with_disc(photo, 300)
    finding = exposure_finding(blown, DEFAULT)
    assert finding.values["highlight_clip_fraction"] < DEFAULT.max_highlight_clip  # type: ignore[operator]
    assert (finding.passed, finding.reason_code) == (False, "highlights_clipped")
    assert finding.values["flat_blown_fraction"] == pytest.approx(47 / 1024, abs=1e-4)
    assert finding.score < DEFAULT.veto_below  # type: ignore[operator]
    assert finding.margin is not None and finding.margin < 0


def test_a_blown_sky_at_the_top_passes(photo: NDArray[np.uint8]) -> None:
    sky = _with_disc(photo, 40)  # reaches the top edge
    finding = exposure_finding(sky, DEFAULT)
    assert finding.values["flat_blown_fraction"] == 0.0
    assert finding.passed


def test_blown_glints_leave_every_tile_some_detail(photo: NDArray[np.uint8]) -> None:
    """Specular glints, lamps, white paper between printed figures: 11 % blown, no tile flat."""
    glints = photo.copy()
    glints[::3, ::3] = 255
    finding = exposure_finding(glints, DEFAULT)
    assert finding.values["highlight_clip_fraction"] == pytest.approx(0.11, abs=0.01)
    assert finding.values["flat_blown_fraction"] == 0.0
    assert finding.passed


def test_a_blown_subject_in_a_real_jpeg_fails() -> None:
    """Through the engine's decode: JPEG noise keeps a blown area at 251 or more."""
    rgb = sharp_photo(4000, 3000)
    rows, columns = np.mgrid[:3000, :4000]
    rgb[(rows - 1800) ** 2 + (columns - 2000) ** 2 < 500**2] = 255
    image = decode_image(encode(rgb), max_pixels=10**8, analysis_long_side=1000, colour_clip=True)
    finding = _judged(image)
    assert 0.035 < finding.values["flat_blown_fraction"] < 0.065  # type: ignore[operator]
    assert (finding.passed, finding.reason_code) == (False, "highlights_clipped")
    good = decode_image(
        encode(sharp_photo(4000, 3000)), max_pixels=10**8, analysis_long_side=1000, colour_clip=True
    )
    assert _judged(good).passed


def test_reference_leaves_the_flat_blown_area_off(photo: NDArray[np.uint8]) -> None:
    assert REFERENCE.max_flat_blown is None
    finding = exposure_finding(_with_disc(photo, 300), REFERENCE)
    assert "flat_blown_fraction" not in finding.values
    assert "max_flat_blown_fraction" not in finding.thresholds
