"""``POST /api/upload``: the validation, plus the top-level keys of the reference's older answer.

Before ``/api/validate`` existed the reference answered uploads with a flat report
(``overall_status`` from excellent to rejected, ``issues``, ``validations``,
``metrics``...). Clients still on ``/api/upload`` get those keys next to the
validation's ``summary`` and ``checks``; nothing collides, and ``recommendations``
means the same in both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from core.events import VerdictEvent
from core.schema import Outcome
from producer_api.legacy.envelope import LegacyModel
from producer_api.legacy.validation import REFERENCE_CHECKS, LegacyCheck, LegacyValidation

#: The older answer's name for each check's report.
_VALIDATION_NAMES = {
    "blur": "blur_detection",
    "brightness": "brightness_validation",
    "resolution": "resolution_check",
    "exposure": "exposure_check",
    "metadata": "metadata_extraction",
}
#: Keys the older reports named differently from the validation's checks.
_OLD_KEY_NAMES = {
    "score": "blur_score",
    "range": "acceptable_range",
    "completeness": "completeness_percentage",
}
_COMMON_KEYS = frozenset(LegacyCheck.model_fields)
OldStatus = Literal["excellent", "needs_improvement", "rejected", "error", "pending"]


class LegacyIssue(LegacyModel):
    type: str = Field(description="The check's name, or validation_error.")
    severity: Literal["critical", "high", "medium"]
    message: str


class LegacyMetrics(LegacyModel):
    total_issues: int = Field(ge=0)
    total_warnings: int = Field(ge=0)
    validations_completed: int = Field(ge=0)
    validations_failed: int = Field(ge=0)
    quality_scores: dict[str, float] = Field(description="Each check's 0-100 score.")
    overall_quality_score: float = Field(description="overall_score / 100, 3 decimals.")


class LegacyUpload(LegacyValidation):
    timestamp: str = Field(description="ISO 8601 time of the verdict (or of the answer).")
    image_path: str = Field(description="The photo's object key in this service's bucket.")
    overall_status: OldStatus = Field(description="The older vocabulary.")
    issues: list[LegacyIssue] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    validations: dict[str, dict[str, object] | None]
    metrics: LegacyMetrics
    processing_time_seconds: float


def _old_status(verdict: VerdictEvent | None, issues: int) -> OldStatus:
    if verdict is None:
        return "pending"
    if verdict.outcome is Outcome.ERROR:
        return "error"
    if verdict.outcome is Outcome.REJECTED:
        return "rejected"
    return "needs_improvement" if issues else "excellent"


def _old_report(check: LegacyCheck | None) -> dict[str, object] | None:
    if check is None:
        return None
    own = check.model_dump(mode="json", exclude=set(_COMMON_KEYS))
    report = {_OLD_KEY_NAMES.get(key, key): value for key, value in own.items()}
    return report | {"meets_requirements": check.status == "pass"}


def _issues(validation: LegacyValidation, verdict: VerdictEvent | None) -> list[LegacyIssue]:
    if verdict is not None and verdict.outcome is Outcome.ERROR:
        return [
            LegacyIssue(type="validation_error", severity="critical", message=message)
            for message in validation.recommendations
        ]
    severity: Literal["high", "medium"] = (
        "high" if verdict is not None and verdict.outcome is Outcome.REJECTED else "medium"
    )
    checks = validation.checks.model_dump(mode="json")
    return [
        LegacyIssue(type=name, severity=severity, message=str(check["reason"]))
        for name, check in checks.items()
        if check is not None and check["status"] == "fail"
    ]


def upload_of(
    validation: LegacyValidation,
    verdict: VerdictEvent | None,
    *,
    timestamp: datetime,
    image_path: str,
) -> LegacyUpload:
    """The validation with the older answer's keys; ``verdict`` is None while pending."""
    issues = _issues(validation, verdict)
    checks = validation.checks
    scores = {name: result.score for name, result in (verdict.checks if verdict else {}).items()}
    score = verdict.score if verdict is not None and verdict.score is not None else 0.0
    return LegacyUpload(
        **dict(validation),
        timestamp=timestamp.isoformat(),
        image_path=image_path,
        overall_status=_old_status(verdict, len(issues)),
        issues=issues,
        validations={
            old: _old_report(getattr(checks, name)) for name, old in _VALIDATION_NAMES.items()
        },
        metrics=LegacyMetrics(
            total_issues=len(issues),
            total_warnings=0,
            validations_completed=sum(1 for name in REFERENCE_CHECKS if name in scores),
            validations_failed=sum(1 for name in REFERENCE_CHECKS if name not in scores),
            quality_scores=scores,
            overall_quality_score=round(score / 100.0, 3),
        ),
        processing_time_seconds=round(verdict.timings.total_ms / 1000.0, 3) if verdict else 0.0,
    )
