"""The reference system's shapes, built from real verdicts of the engine."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core import builtin_profile, score
from core.events import ObjectRef, SubmissionMetadata, VerdictEvent
from producer_api.errors import ApiError
from producer_api.legacy import failure, pending_validation, validation_of
from tests.builders import images

URL = "http://api.example/v1/images/x"


def _event(data: bytes) -> VerdictEvent:
    verdict = score(data, builtin_profile("default"), image_id="x")
    now = datetime.now(UTC)
    return VerdictEvent.of(
        image_id="x",
        submitted_at=now,
        scored_at=now,
        metadata=SubmissionMetadata(),
        object=ObjectRef(
            bucket="b",
            key="k",
            size_bytes=len(data),
            sha256="0" * 64,
            content_type="image/jpeg",
            format="jpeg",
        ),
        verdict=verdict,
    )


@pytest.mark.parametrize(
    ("photo", "status"),
    [
        (images.encode(images.sharp_photo(1280, 960), exif=images.exif_bytes()), "PASS"),
        (images.encode(images.gaussian_blurred(images.sharp_photo(1280, 960), 6.0)), "FAIL"),
        (b"\xff\xd8\xff\xe0 truncated", "ERROR"),
    ],
    ids=["sharp", "blurred", "corrupt"],
)
def test_a_validation_reports_every_check(photo: bytes, status: str) -> None:
    event = _event(photo)
    data = validation_of(event, URL)
    assert data.summary.overall_status == status
    assert data.summary.image_id == "x" and data.status_url == URL
    assert set(data.checks) == set(event.checks)
    failed = [name for name, check in data.checks.items() if check.status == "FAIL"]
    assert data.summary.issues_found == data.summary.total_issues == len(failed)
    assert data.recommendations == data.summary.recommendations
    if status == "ERROR":
        assert data.recommendations, "an unreadable photo still tells the citizen what to do"
    for name, check in data.checks.items():
        result = event.checks[name]
        assert check.details["reason_code"] == result.reason_code
        assert result.thresholds.items() <= check.details.items()


def test_pending_has_no_checks() -> None:
    data = pending_validation("x", URL)
    assert data.summary.overall_status == "PENDING" and data.checks == {}


@pytest.mark.parametrize(
    ("code", "reference"),
    [("payload_too_large", "FILE_TOO_LARGE"), ("kafka_unavailable", "KAFKA_UNAVAILABLE")],
)
def test_errors_use_the_reference_codes(code: str, reference: str) -> None:
    envelope = failure(ApiError(413, code, "too big"))
    assert not envelope.success and envelope.data is None
    assert envelope.error is not None
    assert (envelope.error.code, envelope.error.message, envelope.error.details) == (
        reference,
        "too big",
        code,
    )
