"""The `reference` profile reproduces the reference system's thresholds, partial credit and
decisions.

``test_every_check_of_every_photo_matches_the_reference`` scores a set of real photos
(scikit-image's, at sizes and with EXIF blocks that exercise every branch) with the
engine and with :mod:`bench.accuracy.reference_oracle`, an independent restatement of
the reference's formulas that reads photos as the reference does. CI cost: about 40
photos of about 1 MP, a few seconds. ``bench/accuracy/evaluate.py`` runs the same
comparison on the whole labelled set.
"""

from __future__ import annotations

import functools
import io
from typing import Any

import cv2
import numpy as np
import piexif
import pytest
from PIL import Image
from skimage import data

from bench.accuracy.reference_oracle import reference_decision
from core import Outcome, builtin_profile, score
from core.checks.blur import blur_finding, laplacian
from core.checks.brightness import brightness_finding
from core.checks.exposure import exposure_finding
from core.checks.metadata import metadata_finding
from core.checks.resolution import resolution_finding
from core.exif import ExifData
from core.schema import CheckResult, Quality
from core.scoring import quality_level, weighted_score

REF = builtin_profile("reference").checks


def test_reference_weights_and_thresholds() -> None:
    rules = builtin_profile("reference")
    assert rules.accept_score == 65
    assert [REF.blur.weight, REF.resolution.weight, REF.brightness.weight] == [25, 25, 20]
    assert [REF.exposure.weight, REF.metadata.weight] == [15, 15]
    assert REF.blur.threshold == 100
    assert (REF.brightness.min, REF.brightness.max) == (50, 220)
    assert (REF.resolution.min_width, REF.resolution.min_height) == (800, 600)
    # The reference's resolution checker passes from 1 MP but credits against 0.5 MP.
    assert (REF.resolution.min_megapixels, REF.resolution.credit_megapixels) == (1.0, 0.5)
    assert REF.brightness.min_quality_score == 60
    assert (REF.exposure.min_dynamic_range, REF.exposure.credit_dynamic_range) == (120, 100)
    assert REF.metadata.min_completeness == 15
    assert REF.compression is None
    assert all(
        rule.veto_below is None
        for rule in (REF.blur, REF.resolution, REF.brightness, REF.exposure, REF.metadata)
    )


def _noise_with_laplacian_variance(target: float) -> np.ndarray:
    """A grey image whose whole-image Laplacian variance is close to ``target``."""
    rng = np.random.default_rng(0)
    for sigma in np.linspace(0.5, 20, 400):
        grey = np.clip(128 + rng.normal(0, sigma, (300, 300)), 0, 255).astype(np.uint8)
        if laplacian(grey).var() >= target:
            return grey
    raise AssertionError("unreachable")


def test_blur_partial_credit_is_80_times_value_over_threshold() -> None:
    grey = _noise_with_laplacian_variance(50)
    finding = blur_finding(grey, REF.blur)
    value = float(finding.values["sharpness"])  # type: ignore[arg-type]
    assert value == pytest.approx(float(laplacian(grey).var()), rel=1e-3)
    assert not finding.passed
    assert finding.score == pytest.approx(80 * value / 100, abs=0.05)


@pytest.mark.parametrize(
    ("level", "passed", "score"),
    # A uniform grey inside the band fails the quality score (no contrast) and earns 70.
    [(30, False, 60.0), (10, False, 40.0), (0, False, 30.0), (50, False, 70.0), (240, False, 60.0)],
)
def test_brightness_partial_credit(level: int, passed: bool, score: float) -> None:
    finding = brightness_finding(np.full((60, 80), level, dtype=np.uint8), REF.brightness)
    assert finding.passed is passed
    assert finding.score == pytest.approx(score)


@pytest.mark.parametrize(
    ("size", "passed", "score"),
    [
        ((1280, 960), True, 100.0),
        ((700, 1500), False, 80.0),  # width below 800: no orientation swap in the reference
        ((1024, 768), False, 80.0),  # 0.79 MP: under the checker's 1 MP, credit capped at 80
        # 800x600 is 0.48 MP: the reference's own floor rejects it (our default does not).
        ((800, 600), False, 80 * 0.48 / 0.5),
        ((640, 480), False, 80 * 0.31 / 0.5),  # credited on megapixels rounded to 0.31
        ((400, 300), False, 20.0),
    ],
)
def test_resolution_partial_credit(size: tuple[int, int], passed: bool, score: float) -> None:
    finding = resolution_finding(*size, REF.resolution)
    assert finding.passed is passed
    assert finding.score == pytest.approx(score)


def test_exposure_partial_credit_is_70_times_range_over_threshold() -> None:
    grey = np.tile(np.linspace(100, 150, 256).astype(np.uint8), (64, 1))  # range 50 of 100
    finding = exposure_finding(grey, REF.exposure)
    assert not finding.passed
    value = finding.values["dynamic_range"]
    assert value == pytest.approx(50, abs=1)
    assert finding.score == pytest.approx(70 * value / 100)  # type: ignore[operator]


@pytest.mark.parametrize(("fields", "passed", "score"), [(0, False, 0.0), (1, True, 100.0)])
def test_metadata_partial_credit(fields: int, passed: bool, score: float) -> None:
    exif = ExifData(present=fields > 0, fields=frozenset(["timestamp"][:fields]))
    finding = metadata_finding(exif, REF.metadata)
    assert (finding.passed, finding.score) == (passed, score)


def _result(name: str, score: float, weight: float) -> CheckResult:
    return CheckResult(
        name=name, passed=score == 100, score=score, weight=weight, values={}, thresholds={},
        reason_code="x", duration_ms=0,
    )  # fmt: skip


def test_weighted_score_and_quality_levels() -> None:
    results = [_result("blur", 40, 25), _result("resolution", 100, 25), _result("brightness", 100, 20),
               _result("exposure", 100, 15), _result("metadata", 0, 15)]  # fmt: skip
    pairs = [(r.score, r.weight) for r in results]
    assert weighted_score(pairs) == pytest.approx((40 * 25 + 100 * 60) / 100)
    assert [quality_level(s) for s in (0, 39.9, 40, 64.9, 65, 84.9, 85, 100)] == [
        Quality.POOR, Quality.POOR, Quality.FAIR, Quality.FAIR,
        Quality.GOOD, Quality.GOOD, Quality.EXCELLENT, Quality.EXCELLENT,
    ]  # fmt: skip


# --------------------------------------------------------------------------- parity on photos


def _jpeg(rgb: np.ndarray, quality: int = 92, exif: dict[str, Any] | None = None) -> bytes:
    buffer = io.BytesIO()
    extra = {"exif": piexif.dump(exif)} if exif else {}
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality, **extra)
    return buffer.getvalue()


def _png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def _sized(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.asarray(cv2.resize(rgb, (width, height), interpolation=cv2.INTER_CUBIC), np.uint8)


def _tone(rgb: np.ndarray, gain: float, offset: float = 0.0) -> np.ndarray:
    return np.asarray(np.clip(rgb.astype(np.float32) * gain + offset, 0, 255), np.uint8)


_PHONE = {
    "0th": {piexif.ImageIFD.Make: b"Civic", piexif.ImageIFD.Model: b"Phone",
            piexif.ImageIFD.Orientation: 1},
    "Exif": {piexif.ExifIFD.DateTimeOriginal: b"2026:05:01 10:00:00",
             piexif.ExifIFD.ISOSpeedRatings: 100, piexif.ExifIFD.ExposureTime: (1, 250),
             piexif.ExifIFD.FNumber: (18, 10)},
}  # fmt: skip
_ROTATED = {"0th": {piexif.ImageIFD.Orientation: 6}}
_MAKE_ONLY = {"0th": {piexif.ImageIFD.Make: b"Civic"}}
# An editor's export: a save time and a program name, no capture time: no field counts.
_EDITED = {
    "0th": {piexif.ImageIFD.DateTime: b"2026:05:01 10:00:00", piexif.ImageIFD.Software: b"Editor"}
}


_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
_EDITS = ("native", "1280", "1280-png", "800x600", "blur", "soft", "dark", "dim", "bright", "flat",
          "rotated")  # fmt: skip
_NAMES = [f"{photo}-{edit}" for photo in _PHOTOS for edit in _EDITS] + ["grey-128", "black"]


@functools.cache
def _parity_photos() -> dict[str, bytes]:
    """Photos and edits that land on both sides of every reference threshold."""
    photos: list[tuple[str, bytes]] = []
    for name in _PHOTOS:
        rgb = np.asarray(getattr(data, name)(), np.uint8)
        big = _sized(rgb, 1280, 960)
        photos += [
            (f"{name}-native", _jpeg(rgb)),
            (f"{name}-1280", _jpeg(big, exif=_PHONE)),
            (f"{name}-1280-png", _png(big)),
            (f"{name}-800x600", _jpeg(_sized(rgb, 800, 600), exif=_MAKE_ONLY)),
            (f"{name}-blur", _jpeg(cv2.GaussianBlur(big, (0, 0), 2.5))),
            (f"{name}-soft", _jpeg(cv2.GaussianBlur(big, (0, 0), 1.2), exif=_PHONE)),
            (f"{name}-dark", _jpeg(_tone(big, 0.3))),
            (f"{name}-dim", _jpeg(_tone(big, 0.6), exif=_EDITED)),
            (f"{name}-bright", _jpeg(_tone(big, 1.6, 20))),
            (f"{name}-flat", _jpeg(_tone(big, 0.35, 90))),
            (f"{name}-rotated", _jpeg(_sized(rgb, 1700, 700), exif=_ROTATED)),
        ]
    photos += [
        ("grey-128", _jpeg(np.full((900, 1200, 3), 128, np.uint8))),
        ("black", _png(np.zeros((700, 1000, 3), np.uint8))),
    ]
    return dict(photos)


@pytest.mark.parametrize("name", _NAMES)
def test_every_check_of_every_photo_matches_the_reference(name: str) -> None:
    photo = _parity_photos()[name]
    expected = reference_decision(photo)
    verdict = score(photo, builtin_profile("reference"))
    for check, (passed, partial) in expected.checks.items():
        result = verdict.checks[check]
        assert result.passed is passed, f"{name}: {check}"
        assert result.score == pytest.approx(partial, abs=0.006), f"{name}: {check}"
    assert (verdict.verdict is Outcome.ACCEPTED) is expected.accepted
    assert verdict.score == pytest.approx(expected.total, abs=0.051)


def test_parity_photos_cover_both_outcomes_of_every_check() -> None:
    """The parity set is only worth something if each check both passes and fails on it."""
    assert sorted(_parity_photos()) == sorted(_NAMES)
    outcomes = [reference_decision(photo) for photo in _parity_photos().values()]
    for check in ("blur", "brightness", "resolution", "exposure", "metadata"):
        seen = {o.checks[check][0] for o in outcomes}
        assert seen == {True, False}, check
    assert {o.accepted for o in outcomes} == {True, False}
