"""The reference's read-only answers, from real profiles and counts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core import builtin_profile
from producer_api.legacy.documents import (
    LegacyHealth,
    api_info,
    processing_summary,
    validation_rules,
)
from producer_api.legacy.envelope import LegacyEnvelope
from producer_api.schemas import Summary, WindowSummary
from tests.producer_api.legacy import reference

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _counts(accepted: int, rejected: int, error: int) -> WindowSummary:
    total = accepted + rejected + error
    return WindowSummary(
        total=total,
        accepted=accepted,
        rejected=rejected,
        error=error,
        acceptance_rate=accepted / total if total else None,
    )


def _envelope(data: object) -> dict[str, object]:
    return LegacyEnvelope[object](success=True, message="x", data=data).model_dump(mode="json")


def test_summary_counts_as_the_reference() -> None:
    summary = Summary(
        as_of=NOW, complete=True, last_hour=_counts(1, 0, 0), last_day=_counts(2, 3, 1)
    )
    data = _envelope(processing_summary(summary))
    data["message"] = "Processing summary retrieved"
    assert reference.problems(data, reference.SUMMARY) == []
    counts = data["data"]
    assert isinstance(counts, dict)
    # The reference counts its "processed" (accepted) and "rejected" folders.
    assert (counts["total_processed"], counts["total_rejected"], counts["total_images"]) == (
        2,
        4,
        6,
    )
    assert counts["acceptance_rate"] == 33.33
    assert counts["processing_stats"]["last_hour"]["acceptance_rate"] == 100.0


def test_an_empty_summary_has_a_zero_rate() -> None:
    summary = Summary(
        as_of=NOW, complete=False, last_hour=_counts(0, 0, 0), last_day=_counts(0, 0, 0)
    )
    assert processing_summary(summary).acceptance_rate == 0


@pytest.mark.parametrize("profile", ["default", "reference"])
def test_rules_have_the_reference_keys_and_ours(profile: str) -> None:
    rules = builtin_profile(profile)
    data = _envelope(validation_rules(rules))
    data["message"] = "Current validation rules"
    assert reference.problems(data, reference.VALIDATION_RULES) == []
    blur = validation_rules(rules)["blur"]
    assert blur["min_score"] == blur["threshold"] == rules.checks.blur.threshold
    assert blur["weight"] == rules.checks.blur.weight


def test_the_reference_profile_reads_like_the_reference() -> None:
    rules = validation_rules(builtin_profile("reference"))
    assert rules["blur"]["metric"] == "variance_of_laplacian"
    assert rules["blur"]["levels"] == {"excellent": 300, "acceptable": 100, "poor": 0}
    assert rules["brightness"]["range"] == [50, 220]
    assert rules["brightness"]["quality_score_min"] == 60
    assert rules["exposure"]["min_score"] == 100
    # The reference documents a 2 % clipping limit, but its decision never applies it;
    # the profile reproduces the decision, so clipping up to 100 % passes.
    assert rules["exposure"]["check_clipping"] == {"max_percentage": 100}
    assert rules["metadata"]["min_completeness_percentage"] == 15


def test_api_info_and_health() -> None:
    info = _envelope(api_info(builtin_profile("reference"), NOW, "9.9.9"))
    assert reference.problems(info, reference.TEST_API) == []
    applied = info["data"]["validation_rules_applied"]  # type: ignore[index]
    assert applied["blur"] == "variance_of_laplacian >= 100"
    assert applied["overall"] == "weighted scoring system, pass at >= 65% overall score"
    assert reference.problems(_envelope(LegacyHealth()), reference.HEALTH) == []
