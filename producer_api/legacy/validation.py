"""``data`` of ``POST /api/validate``: the reference's summary and per-check keys, from a verdict.

The reference reports each of its five checks with its own keys (``blur.score`` is the
sharpness, ``brightness.range`` the band, ``metadata.missing_fields``...), a lowercase
``status`` and a ``reason``. Those keys come first; this service's common per-check keys
(``check_score``, ``weight``, ``message``, ``recommendation``, ``details``) are added
next to them, and its extra checks (``compression``, ``privacy``, ``subject``) carry only
those. A check a verdict does not have is ``null``, as the reference sends for a photo it
could not read. The text comes from a :class:`Texts`, in the caller's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol

from pydantic import ConfigDict, Field

from core.events import VerdictEvent
from core.exif import METADATA_FIELDS
from core.schema import CheckResult, ErrorInfo, Outcome, Scalar
from producer_api.legacy.envelope import LegacyModel

LegacyStatus = Literal["pass", "fail", "pending"]
#: The reference's checks, in its order; the others are this service's additions.
REFERENCE_CHECKS = ("blur", "brightness", "resolution", "exposure", "metadata")


class Texts(Protocol):
    """A verdict's codes and values as text, in one language."""

    def reason(self, check: CheckResult) -> str: ...

    def advice(self, check: CheckResult) -> str | None: ...

    def recommendations(self, verdict: VerdictEvent) -> list[str]: ...

    def error_advice(self, error: ErrorInfo | None) -> str: ...


class LegacyCheck(LegacyModel):
    """The keys every check has here (the reference's ``status`` and ``reason`` included)."""

    status: Literal["pass", "fail"]
    reason: str = Field(description="Why it passed or failed, in the caller's language.")
    message: str = Field(description="Same as reason (the reference's API v2 name; added).")
    check_score: float = Field(
        description="0-100 with partial credit (added; this service's per-check score)."
    )
    weight: float = Field(description="The check's weight in overall_score (added).")
    recommendation: str | None = Field(description="What to do, if failed (added).")
    details: dict[str, Scalar] = Field(
        description="Measured values, thresholds and reason_code, in this service's names (added)."
    )


class BlurCheck(LegacyCheck):
    score: float = Field(
        description="Sharpness in the profile's measure (the reference's: variance of the "
        "Laplacian), 2 decimals; not 0-100."
    )
    threshold: float = Field(description="Minimum sharpness, same unit.")


class BrightnessCheck(LegacyCheck):
    mean_brightness: float = Field(description="Mean grey level 0-255, 2 decimals.")
    range: list[float] = Field(description="[min, max] accepted mean grey level.")


class ResolutionCheck(LegacyCheck):
    width: int
    height: int
    megapixels: float = Field(description="2 decimals.")
    min_required: str = Field(description='e.g. "800x600, ≥0.5 MP".')


class ExposureCheck(LegacyCheck):
    dynamic_range: int = Field(description="Grey levels between the 0.5 and 99.5 percentiles.")
    threshold: float = Field(description="Minimum dynamic range.")


class MetadataCheck(LegacyCheck):
    completeness: float = Field(description="Percent of the required EXIF fields, 1 decimal.")
    required_min: float = Field(description="Minimum completeness, percent.")
    missing_fields: list[str]


class LegacyChecks(LegacyModel):
    """The reference's five checks (``null`` when not run); others as extra keys."""

    model_config = ConfigDict(frozen=True, extra="allow")

    blur: BlurCheck | None = None
    brightness: BrightnessCheck | None = None
    resolution: ResolutionCheck | None = None
    exposure: ExposureCheck | None = None
    metadata: MetadataCheck | None = None


class LegacySummary(LegacyModel):
    overall_status: LegacyStatus = Field(
        description="pass (accepted) or fail (rejected, or not readable as an image), as the "
        "reference; pending when the verdict was not ready in time."
    )
    overall_score: float = Field(description="Weighted 0-100, 1 decimal; 0 when unreadable.")
    issues_found: int = Field(ge=0, description="Checks that failed (1 when unreadable).")
    recommendations: list[str] = Field(default_factory=list)
    total_issues: int = Field(ge=0, description="Same as issues_found (API v2 name; added).")
    image_id: str = Field(description="This service's id (added).")
    verdict: Literal["accepted", "rejected", "error"] | None = Field(
        default=None, description="This service's outcome (added); error: not readable."
    )
    quality: str | None = Field(default=None, description="poor..excellent (added).")
    error_code: str | None = Field(
        default=None, description="Why the image could not be scored, when it could not (added)."
    )


class LegacyValidation(LegacyModel):
    summary: LegacySummary
    checks: LegacyChecks = Field(default_factory=LegacyChecks)
    recommendations: list[str] = Field(
        default_factory=list, description="Same as summary.recommendations (added)."
    )
    status_url: str = Field(description="GET it for the full verdict (this service's API).")


def _number(values: Mapping[str, Scalar], key: str) -> float:
    value = values.get(key)
    return float(value) if isinstance(value, int | float) else 0.0


def _reference_keys(result: CheckResult) -> dict[str, object]:
    """The keys the reference sends for this check, with its units and rounding."""
    values, limits = result.values, result.thresholds
    if result.name == "blur":
        return {
            "score": round(_number(values, "sharpness"), 2),
            "threshold": _number(limits, "min_sharpness"),
        }
    if result.name == "brightness":
        return {
            "mean_brightness": round(_number(values, "mean_brightness"), 2),
            "range": [_number(limits, "min_brightness"), _number(limits, "max_brightness")],
        }
    if result.name == "resolution":
        width, height = int(_number(values, "width")), int(_number(values, "height"))
        return {
            "width": width,
            "height": height,
            "megapixels": round(width * height / 1e6, 2),
            "min_required": f"{int(_number(limits, 'min_width'))}x"
            f"{int(_number(limits, 'min_height'))}, ≥{_number(limits, 'min_megapixels'):g} MP",
        }
    if result.name == "exposure":
        return {
            "dynamic_range": int(_number(values, "dynamic_range")),
            "threshold": _number(limits, "min_dynamic_range"),
        }
    if result.name == "metadata":
        present = str(values.get("fields_present") or "").split(",")
        return {
            "completeness": round(_number(values, "completeness_percent"), 1),
            "required_min": _number(limits, "min_completeness_percent"),
            "missing_fields": [field for field in METADATA_FIELDS if field not in present],
        }
    return {}


_CHECK_MODELS: dict[str, type[LegacyCheck]] = {
    "blur": BlurCheck,
    "brightness": BrightnessCheck,
    "resolution": ResolutionCheck,
    "exposure": ExposureCheck,
    "metadata": MetadataCheck,
}


def _check(result: CheckResult, texts: Texts) -> LegacyCheck:
    reason = texts.reason(result)
    details: dict[str, Scalar] = {**result.values, **result.thresholds}
    details["reason_code"] = result.reason_code
    model = _CHECK_MODELS.get(result.name, LegacyCheck)
    return model.model_validate(
        {
            "status": "pass" if result.passed else "fail",
            "reason": reason,
            "message": reason,
            "check_score": result.score,
            "weight": result.weight,
            "recommendation": None if result.passed else texts.advice(result),
            "details": details,
            **_reference_keys(result),
        }
    )


def checks_of(verdict: VerdictEvent, texts: Texts) -> LegacyChecks:
    """Every check of ``verdict``; the reference's five are ``null`` when absent."""
    built = {name: _check(result, texts) for name, result in verdict.checks.items()}
    extras = {
        name: check.model_dump(mode="json")
        for name, check in built.items()
        if name not in REFERENCE_CHECKS
    }
    return LegacyChecks.model_validate(
        {name: built.get(name) for name in REFERENCE_CHECKS} | extras
    )


def validation_of(event: VerdictEvent, status_url: str, texts: Texts) -> LegacyValidation:
    """The reference's ``data`` of a validation, from a stored verdict."""
    verdict = event
    unreadable = verdict.outcome is Outcome.ERROR
    failed = sum(1 for result in verdict.checks.values() if not result.passed)
    recommendations = (
        [texts.error_advice(verdict.error)] if unreadable else texts.recommendations(verdict)
    )
    return LegacyValidation(
        summary=LegacySummary(
            overall_status="pass" if verdict.outcome is Outcome.ACCEPTED else "fail",
            overall_score=round(verdict.score or 0.0, 1),
            issues_found=1 if unreadable else failed,
            total_issues=1 if unreadable else failed,
            recommendations=recommendations,
            image_id=event.image_id,
            verdict=verdict.outcome.value,
            quality=verdict.quality.value if verdict.quality is not None else None,
            error_code=verdict.error.code.value if verdict.error is not None else None,
        ),
        checks=checks_of(verdict, texts),
        recommendations=recommendations,
        status_url=status_url,
    )


def pending_validation(image_id: str, status_url: str) -> LegacyValidation:
    """Stored and queued, but no verdict within the wait: the client polls ``status_url``."""
    return LegacyValidation(
        summary=LegacySummary(
            overall_status="pending",
            overall_score=0.0,
            issues_found=0,
            total_issues=0,
            image_id=image_id,
        ),
        status_url=status_url,
    )
