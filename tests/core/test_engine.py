"""The engine end to end on real photos and hostile files: verdicts, values, determinism."""

from __future__ import annotations

from typing import Any

import pytest

from core import Outcome, builtin_profile, score
from core.rules import Rules
from core.schema import ErrorCode, Verdict
from tests.builders.images import (
    encode,
    exif_bytes,
    gaussian_blurred,
    png_header_only,
    sharp_photo,
    with_brightness,
    with_garbage_exif,
)

DEFAULT = builtin_profile("default")
REFERENCE = builtin_profile("reference")
PIXEL_CHECKS = ("blur", "brightness", "exposure")


def _pixel_values(verdict: Verdict) -> dict[str, object]:
    return {name: verdict.checks[name].values for name in PIXEL_CHECKS}


@pytest.mark.parametrize("name", ["astronaut", "coffee"])
def test_sharp_real_photo_is_accepted_with_every_check_reported(name: str) -> None:
    verdict = score(encode(sharp_photo(1600, 1200, name)), DEFAULT, image_id="abc")
    assert verdict.verdict is Outcome.ACCEPTED
    assert verdict.image_id == "abc"
    assert set(verdict.checks) == {
        "blur",
        "resolution",
        "brightness",
        "exposure",
        "metadata",
        "compression",
    }
    assert verdict.checks["blur"].passed
    assert verdict.checks["resolution"].values == {
        "width": 1600,
        "height": 1200,
        "megapixels": 1.92,
    }
    assert verdict.score is not None and verdict.score >= 65
    assert (verdict.profile.name, verdict.profile.version) == ("default", DEFAULT.version)
    assert verdict.timings.total_ms >= verdict.timings.decode_ms > 0


def test_blurred_photo_is_vetoed_by_default_but_accepted_by_the_reference() -> None:
    """The reason for vetoes: under pure weighted scoring a blurred photo still passes."""
    photo = gaussian_blurred(sharp_photo(1600, 1200, "coffee"), sigma=8.0)
    data = encode(photo, exif=exif_bytes())
    ours, theirs = score(data, DEFAULT), score(data, REFERENCE)
    assert not ours.checks["blur"].passed and not theirs.checks["blur"].passed
    assert ours.verdict is Outcome.REJECTED
    assert "blur" in ours.vetoed_by
    assert ours.checks["blur"].reason_code == "too_blurry"
    # Blur earns almost nothing, everything else passes: 75 under pure weighting.
    assert theirs.score == pytest.approx(75, abs=1)
    assert theirs.verdict is Outcome.ACCEPTED
    assert theirs.vetoed_by == []


def test_small_photo_is_rejected_for_resolution() -> None:
    verdict = score(encode(sharp_photo(640, 480)), DEFAULT)
    assert verdict.verdict is Outcome.REJECTED
    assert verdict.checks["resolution"].reason_code == "too_small"
    assert verdict.vetoed_by == ["resolution"]


def test_overexposed_photo_is_rejected() -> None:
    verdict = score(encode(with_brightness(sharp_photo(1600, 1200), 2.2, 40)), DEFAULT)
    assert verdict.verdict is Outcome.REJECTED
    assert not verdict.checks["exposure"].passed
    assert verdict.checks["exposure"].reason_code == "highlights_clipped"


def test_heavily_compressed_photo_is_rejected() -> None:
    verdict = score(encode(sharp_photo(1600, 1200), quality=8), DEFAULT)
    assert verdict.checks["compression"].values["jpeg_quality"] == pytest.approx(8, abs=3)
    assert verdict.verdict is Outcome.REJECTED
    assert "compression" in verdict.vetoed_by


def test_exif_summary_and_metadata_completeness() -> None:
    exif = exif_bytes(make="Fairphone", model="FP5", gps=(52.5, -1.25))
    verdict = score(encode(sharp_photo(), exif=exif), DEFAULT)
    assert verdict.exif is not None and verdict.exif.present
    assert (verdict.exif.camera_make, verdict.exif.camera_model) == ("Fairphone", "FP5")
    assert verdict.exif.captured_at == "2026-05-04T10:11:12"
    assert verdict.exif.gps is not None
    assert verdict.exif.gps.latitude == pytest.approx(52.5, abs=1e-4)
    assert verdict.exif.gps.longitude == pytest.approx(-1.25, abs=1e-4)
    # timestamp, camera, iso, shutter, aperture present; orientation absent: 5 of 6.
    assert verdict.checks["metadata"].values["completeness_percent"] == pytest.approx(83.3)
    assert verdict.checks["metadata"].passed


def test_same_bytes_give_the_same_verdict() -> None:
    data = encode(gaussian_blurred(sharp_photo(), 1.5))
    first, second = score(data, DEFAULT), score(data, DEFAULT)
    strip: Any = {"timings": True, "checks": {name: {"duration_ms"} for name in first.checks}}
    assert first.model_dump(exclude=strip) == second.model_dump(exclude=strip)


def test_exif_rotated_twin_gets_the_same_pixel_checks() -> None:
    pixels = sharp_photo(1600, 1200)
    upright = score(encode(pixels, "PNG"), DEFAULT)
    # Stored sideways, with orientation 6 telling viewers to rotate it back upright.
    import numpy as np

    sideways = np.ascontiguousarray(np.rot90(pixels, 1))
    twin = score(encode(sideways, "PNG", exif=exif_bytes(orientation=6)), DEFAULT)
    assert twin.image is not None and (twin.image.width, twin.image.height) == (1600, 1200)
    assert _pixel_values(twin) == _pixel_values(upright)
    assert twin.verdict == upright.verdict


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", ErrorCode.EMPTY),
        (b"just text, but the file was called photo.jpg", ErrorCode.UNSUPPORTED_FORMAT),
        (png_header_only(100_000, 100_000), ErrorCode.TOO_MANY_PIXELS),
        (encode(sharp_photo())[:5000], ErrorCode.CORRUPT),
    ],
    ids=["zero-bytes", "text-named-jpg", "png-bomb-header", "truncated-jpeg"],
)
def test_hostile_files_get_an_error_verdict_not_an_exception(data: bytes, code: ErrorCode) -> None:
    verdict = score(data, DEFAULT, image_id="x")
    assert verdict.verdict is Outcome.ERROR
    assert verdict.error is not None and verdict.error.code is code
    assert verdict.error.message
    assert verdict.score is None and verdict.checks == {}


def test_garbage_exif_counts_as_absent_and_pixels_still_score() -> None:
    verdict = score(with_garbage_exif(encode(sharp_photo())), DEFAULT)
    assert verdict.verdict is Outcome.ACCEPTED
    assert verdict.exif is not None and not verdict.exif.present
    assert verdict.checks["metadata"].values["completeness_percent"] == 0


def test_verdict_round_trips_through_json() -> None:
    verdict = score(encode(sharp_photo()), DEFAULT)
    assert Verdict.model_validate_json(verdict.model_dump_json()) == verdict


def test_env_overridden_rules_are_recorded_in_the_verdict() -> None:
    from core import with_env_overrides

    strict: Rules = with_env_overrides(DEFAULT, {"BLUR_THRESHOLD": "1000000"})
    verdict = score(encode(sharp_photo()), strict)
    assert verdict.profile.version == f"{DEFAULT.version}+env"
    assert verdict.checks["blur"].thresholds["min_sharpness"] == 1_000_000
    assert verdict.verdict is Outcome.REJECTED
