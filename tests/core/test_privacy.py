"""core/privacy.py: what each EXIF disclosure mode leaves in a verdict."""

from __future__ import annotations

import pytest

from core import score
from core.privacy import ExifDisclosure, redact_exif
from core.profiles import builtin_profile
from core.schema import Verdict
from tests.builders import images

GPS = (52.512345, 13.387654)


@pytest.fixture(scope="module")
def verdict() -> Verdict:
    photo = images.encode(
        images.resized(images.real_photo(), 640, 480), exif=images.exif_bytes(gps=GPS)
    )
    result = score(photo, builtin_profile("default"))
    assert result.exif is not None and result.exif.gps is not None
    return result


def test_full_keeps_the_exact_position(verdict: Verdict) -> None:
    assert redact_exif(verdict, ExifDisclosure.FULL) == verdict


def test_coarse_rounds_gps_to_about_a_kilometre(verdict: Verdict) -> None:
    coarse = redact_exif(verdict, ExifDisclosure.COARSE)
    assert coarse.exif is not None and coarse.exif.gps is not None
    assert (coarse.exif.gps.latitude, coarse.exif.gps.longitude) == (52.51, 13.39)
    assert coarse.exif.gps.altitude_m is None
    assert abs(coarse.exif.gps.latitude - GPS[0]) * 111_000 < 1_000
    if coarse.exif.captured_at is not None:
        assert len(coarse.exif.captured_at) == len("2024-05-01")


def test_off_leaves_presence_and_orientation_only(verdict: Verdict) -> None:
    off = redact_exif(verdict, ExifDisclosure.OFF)
    assert off.exif is not None
    assert off.exif.present is True
    assert off.exif.gps is None
    assert off.exif.camera_make is None and off.exif.captured_at is None


@pytest.mark.parametrize("mode", list(ExifDisclosure))
def test_only_exif_changes(verdict: Verdict, mode: ExifDisclosure) -> None:
    redacted = redact_exif(verdict, mode)
    assert redacted.model_copy(update={"exif": verdict.exif}) == verdict


def test_a_verdict_without_exif_is_unchanged() -> None:
    bare = score(
        images.encode(images.resized(images.real_photo(), 320, 240), "PNG"),
        builtin_profile("default"),
    )
    for mode in ExifDisclosure:
        assert redact_exif(bare, mode) == bare
