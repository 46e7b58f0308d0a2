"""The verdict event is flat and versioned: the engine's answer at the top level, version 1 readable."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from core import builtin_profile, score
from core.events import SubmissionMetadata, VerdictEvent
from core.schema import Outcome, Verdict
from tests.builders.images import encode, gaussian_blurred, sharp_photo
from tests.builders.refs import jpeg_ref

#: Engine fields the event renames; every other engine field keeps its name.
RENAMED = {"verdict": "outcome", "profile": "rules"}
NOT_CARRIED = {"schema_version", "image_id"}  # the event's own


def _event(verdict: Verdict) -> VerdictEvent:
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    return VerdictEvent.of(
        verdict,
        image_id="0190-abc",
        submitted_at=now,
        scored_at=now,
        metadata=SubmissionMetadata(tenant="springfield"),
        object=jpeg_ref("rejected/2026/11/30/0190-abc.jpg"),
    )


@pytest.fixture(scope="module")
def blurred() -> Verdict:
    return score(encode(gaussian_blurred(sharp_photo(), 6.0)), builtin_profile("default"))


def test_every_engine_field_has_a_top_level_home() -> None:
    carried = {RENAMED.get(name, name) for name in Verdict.model_fields} - NOT_CARRIED
    assert carried <= set(VerdictEvent.model_fields)


def test_the_event_reads_at_one_level(blurred: Verdict) -> None:
    event = _event(blurred)
    assert event.schema_version == 2
    assert event.outcome is blurred.verdict is Outcome.REJECTED
    assert (event.score, event.quality, event.checks) == (
        blurred.score,
        blurred.quality,
        blurred.checks,
    )
    # Language-neutral: codes and values, no prose (texts come from the catalogues).
    assert not {"advice", "recommendations"} & set(event.model_dump())
    assert event.checks["blur"].reason_code == "too_blurry"
    assert event.rules == blurred.profile
    assert "verdict" not in event.model_dump()


def test_an_undecodable_photo_is_an_error_event_with_its_reason() -> None:
    event = _event(score(b"not an image", builtin_profile("default")))
    assert (event.outcome, event.score, event.checks) == (Outcome.ERROR, None, {})
    assert event.error is not None and event.error.code.value == "unsupported_format"


def test_a_version_1_event_is_read_as_version_2(blurred: Verdict) -> None:
    event = _event(blurred)
    version_1 = {
        **event.model_dump(
            mode="json",
            include={"image_id", "submitted_at", "scored_at", "metadata", "object", "redacted"},
        ),
        "schema_version": 1,
        "verdict": _with_english_prose(blurred.model_dump(mode="json")),
    }
    assert VerdictEvent.model_validate(version_1) == event
    assert VerdictEvent.model_validate_json(event.model_dump_json()) == event


def _with_english_prose(verdict: dict[str, Any]) -> dict[str, Any]:
    """An engine verdict as version 1 stored it: with its English texts."""
    return {
        **verdict,
        "schema_version": 1,
        "recommendations": ["Hold the phone steady."],
        "checks": {
            name: {**check, "reason": "In English.", "recommendation": None}
            for name, check in verdict["checks"].items()
        },
    }
