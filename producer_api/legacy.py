"""The reference system's response shapes, built from this service's verdicts and counts.

The reference (a Flask app) wraps every answer in ``{success, message, data, error}``
and reports a validation as ``data.summary`` plus ``data.checks``. These models
reproduce those field names for its existing clients; the values come from
:class:`core.events.VerdictEvent` and :class:`producer_api.schemas.Summary`. Pure
functions, no I/O: the routes in :mod:`producer_api.routes.legacy` do the waiting.
See ``docs/LEGACY_API.md`` for the mapping and what differs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from core.events import VerdictEvent
from core.schema import CheckResult, Outcome, Scalar
from producer_api.errors import ApiError
from producer_api.schemas import OutcomeCounts, Summary

DataT = TypeVar("DataT")

LegacyStatus = Literal["PASS", "FAIL", "ERROR", "PENDING"]

#: Our stable error codes -> the reference's documented ones (others are upper-cased).
_REFERENCE_CODES = {
    "missing_image": "MISSING_IMAGE",
    "empty_upload": "MISSING_IMAGE",
    "not_an_image": "INVALID_IMAGE",
    "unsupported_media_type": "INVALID_IMAGE",
    "payload_too_large": "FILE_TOO_LARGE",
    "internal_error": "SERVER_ERROR",
}


class _Legacy(BaseModel):
    model_config = ConfigDict(frozen=True)


class LegacyError(_Legacy):
    code: str = Field(description="e.g. MISSING_IMAGE, INVALID_IMAGE, FILE_TOO_LARGE.")
    message: str
    details: str | None = None


class LegacyEnvelope(_Legacy, Generic[DataT]):
    """Every ``/api/*`` answer, success or failure."""

    success: bool
    message: str
    data: DataT | None = None
    error: LegacyError | None = None


class LegacyCheck(_Legacy):
    status: Literal["PASS", "FAIL"]
    score: float = Field(description="0-100, with partial credit when failed.")
    weight: float
    message: str = Field(description="Plain-language reason.")
    recommendation: str | None = None
    details: dict[str, Scalar] = Field(
        description="Measured values and the thresholds they were compared to."
    )


class LegacySummary(_Legacy):
    overall_status: LegacyStatus = Field(
        description="PASS when accepted, FAIL when rejected, ERROR when the image could not "
        "be scored, PENDING when the verdict was not ready in time."
    )
    overall_score: float | None = None
    issues_found: int = Field(ge=0, description="Checks that failed.")
    total_issues: int = Field(ge=0, description="Same as issues_found (API v2 name).")
    image_id: str
    verdict: Literal["accepted", "rejected", "error"] | None = None
    quality: str | None = None
    recommendations: list[str] = Field(default_factory=list)


class LegacyValidation(_Legacy):
    summary: LegacySummary
    checks: dict[str, LegacyCheck] = Field(default_factory=dict)
    recommendations: list[str] = Field(default_factory=list)
    status_url: str = Field(description="GET it for the full verdict (this service's API).")


class LegacyHealth(_Legacy):
    status: Literal["healthy"] = "healthy"
    service: str = "civicqc"
    api_version: str
    validation_rules: str = Field(description="Default rule profile, as name@version.")


class LegacyWindow(_Legacy):
    processed: int = Field(ge=0)
    accepted: int = Field(ge=0)
    rejected: int = Field(ge=0)
    errors: int = Field(ge=0)
    acceptance_rate: float | None = Field(description="Percent (0-100); null with no verdicts.")


class LegacyProcessingStats(_Legacy):
    last_hour: LegacyWindow
    last_24_hours: LegacyWindow


class LegacyProcessingSummary(_Legacy):
    total_processed: int = Field(ge=0, description="Verdicts in the last 24 hours.")
    accepted: int = Field(ge=0)
    rejected: int = Field(ge=0)
    errors: int = Field(ge=0)
    acceptance_rate: float | None = Field(description="Percent (0-100); null with no verdicts.")
    processing_stats: LegacyProcessingStats
    complete: bool = Field(description="False while this replica still reads the day's verdicts.")
    as_of: datetime


class LegacyApiInfo(_Legacy):
    api_version: str
    endpoints: dict[str, str]
    features: list[str]


def _check(result: CheckResult) -> LegacyCheck:
    details: dict[str, Scalar] = {**result.values, **result.thresholds}
    details["reason_code"] = result.reason_code
    return LegacyCheck(
        status="PASS" if result.passed else "FAIL",
        score=result.score,
        weight=result.weight,
        message=result.reason,
        recommendation=result.recommendation,
        details=details,
    )


_STATUS: dict[Outcome, LegacyStatus] = {
    Outcome.ACCEPTED: "PASS",
    Outcome.REJECTED: "FAIL",
    Outcome.ERROR: "ERROR",
}


def validation_of(event: VerdictEvent, status_url: str) -> LegacyValidation:
    """The reference's ``data`` of a validation, from a stored verdict."""
    checks = {name: _check(result) for name, result in event.checks.items()}
    failed = sum(1 for check in checks.values() if check.status == "FAIL")
    recommendations = list(event.advice)
    if event.error is not None and not recommendations:
        recommendations = [event.error.message]
    return LegacyValidation(
        summary=LegacySummary(
            overall_status=_STATUS[event.outcome],
            overall_score=event.score,
            issues_found=failed,
            total_issues=failed,
            image_id=event.image_id,
            verdict=event.outcome.value,
            quality=event.quality.value if event.quality is not None else None,
            recommendations=recommendations,
        ),
        checks=checks,
        recommendations=recommendations,
        status_url=status_url,
    )


def pending_validation(image_id: str, status_url: str) -> LegacyValidation:
    """Stored and queued, but no verdict within the wait: the client polls ``status_url``."""
    return LegacyValidation(
        summary=LegacySummary(
            overall_status="PENDING", issues_found=0, total_issues=0, image_id=image_id
        ),
        status_url=status_url,
    )


def failure(error: ApiError) -> LegacyEnvelope[None]:
    """An ``ApiError`` (from the shared submission path) as the reference's error envelope."""
    code = error.code
    return LegacyEnvelope[None](
        success=False,
        message=str(error.detail),
        error=LegacyError(
            code=_REFERENCE_CODES.get(code, code.upper()),
            message=str(error.detail),
            details=code,
        ),
    )


def _window(counts: OutcomeCounts) -> LegacyWindow:
    return LegacyWindow(
        processed=counts.total,
        accepted=counts.accepted,
        rejected=counts.rejected,
        errors=counts.error,
        acceptance_rate=_percent(counts.acceptance_rate),
    )


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


def processing_summary(summary: Summary) -> LegacyProcessingSummary:
    """The reference's ``/api/summary`` counts, from this replica's verdict-topic tally."""
    day = summary.last_day
    return LegacyProcessingSummary(
        total_processed=day.total,
        accepted=day.accepted,
        rejected=day.rejected,
        errors=day.error,
        acceptance_rate=_percent(day.acceptance_rate),
        processing_stats=LegacyProcessingStats(
            last_hour=_window(summary.last_hour), last_24_hours=_window(day)
        ),
        complete=summary.complete,
        as_of=summary.as_of,
    )
