"""core/scoring.py and the engine's margins: the decision at one decimal, how sure it was."""

from __future__ import annotations

import pytest

from core import builtin_profile, score
from core.schema import Outcome
from core.scoring import decide
from tests.builders.images import encode, gaussian_blurred, sharp_photo


@pytest.mark.parametrize(
    ("score_value", "outcome"),
    [(64.94, Outcome.REJECTED), (64.95, Outcome.ACCEPTED), (65.0, Outcome.ACCEPTED)],
)
def test_the_score_is_compared_as_shown_at_one_decimal(
    score_value: float, outcome: Outcome
) -> None:
    assert decide(score_value, 65, []) is outcome
    assert decide(score_value, 65, ["blur"]) is Outcome.REJECTED


def test_a_clear_pass_records_a_wide_positive_margin() -> None:
    verdict = score(encode(sharp_photo(1600, 1200)), builtin_profile("default"))
    assert verdict.verdict is Outcome.ACCEPTED
    assert all(c.margin is not None for c in verdict.checks.values())
    blur = verdict.checks["blur"]
    assert blur.margin is not None and blur.margin > 0.1 and not blur.near_threshold


def test_a_clear_failure_records_a_wide_negative_margin() -> None:
    verdict = score(
        encode(gaussian_blurred(sharp_photo(1600, 1200), 4.0)), builtin_profile("default")
    )
    blur = verdict.checks["blur"]
    assert verdict.verdict is Outcome.REJECTED
    assert blur.margin is not None and blur.margin < -0.1 and not blur.near_threshold


def test_a_check_within_near_margin_of_its_threshold_says_so() -> None:
    """A blur just strong enough to fail lands within 10 % of the threshold."""
    rules = builtin_profile("default")
    photo = sharp_photo(2400, 1600)
    margins = {}
    for sigma in (0.9, 1.1, 1.3, 1.5):
        blur = score(encode(gaussian_blurred(photo, sigma)), rules).checks["blur"]
        assert blur.margin is not None
        margins[sigma] = blur.margin
        assert blur.near_threshold is (abs(blur.margin) < rules.near_margin)
    assert any(abs(m) < rules.near_margin for m in margins.values()), margins
