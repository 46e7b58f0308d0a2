"""``POST /api/validate``'s data from real verdicts of the engine, against the reference's shapes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core import builtin_profile, score
from core.events import SubmissionMetadata, VerdictEvent
from core.schema import CheckResult, ErrorInfo
from producer_api.legacy.upload import upload_of
from producer_api.legacy.validation import pending_validation, validation_of
from tests.builders import images
from tests.builders.refs import jpeg_ref
from tests.producer_api.legacy import reference

URL = "http://api.example/v1/images/x"
SHARP = images.encode(images.sharp_photo(1280, 960), exif=images.exif_bytes())
BLURRED = images.encode(images.gaussian_blurred(images.sharp_photo(1280, 960), 6.0))
CORRUPT = b"\xff\xd8\xff\xe0 truncated"


class CodeTexts:
    """Texts that spell the codes, so a test sees which text went where."""

    def reason(self, check: CheckResult) -> str:
        return f"reason {check.name}.{check.reason_code}"

    def advice(self, check: CheckResult) -> str | None:
        return f"advice {check.name}.{check.reason_code}"

    def recommendations(self, verdict: VerdictEvent) -> list[str]:
        return [f"advice {n}.{c.reason_code}" for n, c in verdict.checks.items() if not c.passed]

    def error_advice(self, error: ErrorInfo | None) -> str:
        return f"error {error.code if error else None}"


def _event(data: bytes, profile: str = "default") -> VerdictEvent:
    now = datetime.now(UTC)
    return VerdictEvent.of(
        image_id="x",
        submitted_at=now,
        scored_at=now,
        metadata=SubmissionMetadata(),
        object=jpeg_ref("incoming/x.jpg", size_bytes=len(data)),
        verdict=score(data, builtin_profile(profile), image_id="x"),
    )


@pytest.mark.parametrize("profile", ["default", "reference"])
@pytest.mark.parametrize(
    ("photo", "shape"),
    [
        (SHARP, reference.validation("pass")),
        (BLURRED, reference.validation("fail")),
        (CORRUPT, reference.UNREADABLE),
    ],
    ids=["pass", "fail", "unreadable"],
)
def test_a_validation_has_every_reference_key(
    photo: bytes, shape: dict[str, object], profile: str
) -> None:
    data = validation_of(_event(photo, profile), URL, CodeTexts()).model_dump(mode="json")
    assert reference.problems(data, shape["data"]) == []


def test_checks_carry_the_reference_values_and_ours() -> None:
    event = _event(BLURRED)
    checks = validation_of(event, URL, CodeTexts()).checks.model_dump(mode="json")
    results = event.checks
    blur = checks["blur"]
    assert blur["status"] == "fail" and blur["reason"] == "reason blur.too_blurry"
    assert blur["score"] == results["blur"].values["sharpness"]  # 2 decimals in both
    assert blur["threshold"] == results["blur"].thresholds["min_sharpness"]
    assert blur["check_score"] == results["blur"].score < 80  # ours, renamed from score
    assert blur["recommendation"] == "advice blur.too_blurry"
    assert checks["resolution"]["min_required"] == "800x600, ≥0.48 MP"
    brightness = results["brightness"].thresholds
    assert checks["brightness"]["range"] == [
        brightness["min_brightness"],
        brightness["max_brightness"],
    ]
    # The metadata check found no EXIF: every required field is missing.
    assert checks["metadata"]["missing_fields"] == list(reference.METADATA_FIELDS)
    assert checks["metadata"]["completeness"] == 0
    # This service's extra check keeps its common keys under its own name.
    assert checks["compression"]["status"] in ("pass", "fail")
    assert {"reason", "check_score", "details"} <= set(checks["compression"])


def test_an_unreadable_photo_is_a_fail_with_advice() -> None:
    data = validation_of(_event(CORRUPT), URL, CodeTexts())
    assert data.summary.verdict == "error" and data.summary.error_code is not None
    assert data.summary.recommendations == [f"error {data.summary.error_code}"]
    assert data.recommendations == data.summary.recommendations


def test_pending_has_null_checks() -> None:
    data = pending_validation("x", URL).model_dump(mode="json")
    assert data["summary"]["overall_status"] == "pending"
    assert data["checks"] == {name: None for name in reference.CHECKS}


@pytest.mark.parametrize(
    ("photo", "status"),
    [(SHARP, "excellent"), (BLURRED, "rejected"), (CORRUPT, "error")],
    ids=["pass", "fail", "unreadable"],
)
def test_upload_adds_the_older_report(photo: bytes, status: str) -> None:
    event = _event(photo)
    validation = validation_of(event, URL, CodeTexts())
    data = upload_of(
        validation, event, timestamp=event.scored_at, image_path=event.object.key
    ).model_dump(mode="json")
    assert reference.problems(data, reference.OLD_REPORT) == []
    assert data["overall_status"] == status
    assert data["summary"] == validation.summary.model_dump(mode="json")
    assert data["metrics"]["total_issues"] == len(data["issues"])
    if status == "rejected":
        assert {"type": "blur", "severity": "high", "message": "reason blur.too_blurry"} in data[
            "issues"
        ]
        assert data["validations"]["blur_detection"]["meets_requirements"] is False
