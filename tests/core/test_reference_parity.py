"""The `reference` profile reproduces the reference system's thresholds and partial credit."""

from __future__ import annotations

import numpy as np
import pytest

from core import builtin_profile
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
    assert REF.resolution.min_megapixels == 0.5
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
    [(30, False, 60.0), (10, False, 40.0), (0, False, 30.0), (50, True, 100.0), (240, False, 60.0)],
)
def test_brightness_partial_credit(level: int, passed: bool, score: float) -> None:
    finding = brightness_finding(np.full((60, 80), level, dtype=np.uint8), REF.brightness)
    assert finding.passed is passed
    assert finding.score == pytest.approx(score)


@pytest.mark.parametrize(
    ("size", "passed", "score"),
    [
        ((1024, 768), True, 100.0),
        ((768, 1024), True, 100.0),
        # 800x600 is 0.48 MP: the reference's own floor rejects it (our default does not).
        ((800, 600), False, 80 * 0.48 / 0.5),
        ((640, 480), False, 80 * 0.3072 / 0.5),
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
    assert weighted_score(results) == pytest.approx((40 * 25 + 100 * 60) / 100)
    assert [quality_level(s) for s in (0, 39.9, 40, 64.9, 65, 84.9, 85, 100)] == [
        Quality.POOR, Quality.POOR, Quality.FAIR, Quality.FAIR,
        Quality.GOOD, Quality.GOOD, Quality.EXCELLENT, Quality.EXCELLENT,
    ]  # fmt: skip
