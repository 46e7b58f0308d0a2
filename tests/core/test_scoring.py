"""core/scoring.py: the decision at one decimal, and advice that says when a photo was close."""

from __future__ import annotations

import pytest

from core import builtin_profile, score
from core.schema import CheckResult, Outcome
from core.scoring import advice, decide
from tests.builders.images import encode, gaussian_blurred, sharp_photo


def _result(name: str, *, passed: bool, margin: float, blocking: bool = True) -> CheckResult:
    return CheckResult(
        name=name,
        passed=passed,
        score=100.0 if passed else 50.0,
        weight=25,
        values={},
        thresholds={},
        reason_code="x",
        reason="x",
        recommendation=None if passed else f"fix {name}",
        blocking=blocking,
        margin=margin,
        near_threshold=abs(margin) < 0.1,
        duration_ms=0,
    )


@pytest.mark.parametrize(
    ("score_value", "outcome"),
    [(64.94, Outcome.REJECTED), (64.95, Outcome.ACCEPTED), (65.0, Outcome.ACCEPTED)],
)
def test_the_score_is_compared_as_shown_at_one_decimal(
    score_value: float, outcome: Outcome
) -> None:
    assert decide(score_value, 65, []) is outcome
    assert decide(score_value, 65, ["blur"]) is Outcome.REJECTED


def test_advice_says_when_a_photo_only_just_failed_or_passed() -> None:
    notes = advice(
        [
            _result("blur", passed=False, margin=-0.05),
            _result("exposure", passed=True, margin=0.04),
            _result("resolution", passed=True, margin=0.5),
            _result("brightness", passed=True, margin=0.01, blocking=False),
        ]
    )
    assert notes[0] == "fix blur"
    assert any("sharpness only just missed the limit" in n for n in notes)
    assert any("exposure is close to the limit" in n for n in notes)
    assert not any("resolution" in n or "brightness" in n for n in notes)


def test_a_clear_verdict_has_no_near_threshold_note() -> None:
    verdict = score(encode(sharp_photo(1600, 1200)), builtin_profile("default"))
    assert verdict.verdict is Outcome.ACCEPTED
    assert all(c.margin is not None for c in verdict.checks.values())
    blur = verdict.checks["blur"]
    assert blur.margin is not None and blur.margin > 0.1 and not blur.near_threshold
    assert not any("limit" in note for note in verdict.recommendations)


def test_a_rejected_verdict_records_a_negative_margin() -> None:
    verdict = score(
        encode(gaussian_blurred(sharp_photo(1600, 1200), 4.0)), builtin_profile("default")
    )
    blur = verdict.checks["blur"]
    assert verdict.verdict is Outcome.REJECTED
    assert blur.margin is not None and blur.margin < -0.1
