"""``data`` of the reference's read-only endpoints: health, summary, validation rules, API info.

Each carries the reference's keys with its conventions (``acceptance_rate`` in percent
with two decimals and 0 when nothing was seen, ``api_version`` as ``"2.0"``...). The
health answer needs no key, so it says nothing but that the process is alive.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from core.exif import METADATA_FIELDS
from core.rules import BlurRule, Checks, ExposureRule, Rules
from producer_api.legacy.envelope import LegacyEnvelope, LegacyModel
from producer_api.legacy.validation import LegacyValidation
from producer_api.schemas import OutcomeCounts, Summary

#: The reference API's version these answers follow (not this service's version).
LEGACY_API_VERSION = "2.0"
#: The reference's name for its blur measure; ours keep their own names.
_REFERENCE_METRIC = {"laplacian_variance": "variance_of_laplacian"}


class LegacyHealth(LegacyModel):
    status: str = Field(default="healthy", description="Always healthy: liveness only.")
    service: str = "civicqc"
    api_version: str = LEGACY_API_VERSION
    validation_rules: str = Field(default="updated", description="Constant, as the reference.")


class LegacyWindow(LegacyModel):
    processed: int = Field(ge=0)
    accepted: int = Field(ge=0)
    rejected: int = Field(ge=0)
    errors: int = Field(ge=0)
    acceptance_rate: float = Field(description="Percent, 2 decimals; 0 with no verdicts.")


class LegacyProcessingStats(LegacyModel):
    last_hour: LegacyWindow
    last_24_hours: LegacyWindow


class LegacyProcessingSummary(LegacyModel):
    total_processed: int = Field(
        ge=0, description="Accepted photos, as the reference counts its processed folder."
    )
    total_rejected: int = Field(ge=0, description="Rejected or unreadable photos.")
    total_images: int = Field(ge=0, description="Every photo with a verdict.")
    acceptance_rate: float = Field(description="Percent, 2 decimals; 0 with no verdicts.")
    last_updated: str = Field(description="ISO 8601 time of the counts.")
    accepted: int = Field(ge=0, description="Added: same as total_processed.")
    rejected: int = Field(ge=0, description="Added: rejected on quality.")
    errors: int = Field(ge=0, description="Added: could not be read as an image.")
    processing_stats: LegacyProcessingStats = Field(description="Added.")
    complete: bool = Field(description="Added: false while this replica still reads the day.")
    as_of: datetime = Field(description="Added: same time as last_updated.")


class LegacyApiInfo(LegacyModel):
    api_version: str = LEGACY_API_VERSION
    timestamp: str = Field(description="ISO 8601 time of the answer.")
    validation_rules_applied: dict[str, str]
    endpoints: dict[str, str]
    example_response_structure: dict[str, object] = Field(
        description="JSON Schema of a POST /api/validate answer."
    )
    features: list[str]
    engine_version: str = Field(description="Added: this service's engine version.")


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def _window(counts: OutcomeCounts) -> LegacyWindow:
    return LegacyWindow(
        processed=counts.total,
        accepted=counts.accepted,
        rejected=counts.rejected,
        errors=counts.error,
        acceptance_rate=_percent(counts.accepted, counts.total),
    )


def processing_summary(summary: Summary) -> LegacyProcessingSummary:
    """The reference's ``/api/summary`` counts, from this replica's verdict-topic tally."""
    day = summary.last_day
    return LegacyProcessingSummary(
        total_processed=day.accepted,
        total_rejected=day.rejected + day.error,
        total_images=day.total,
        acceptance_rate=_percent(day.accepted, day.total),
        last_updated=summary.as_of.isoformat(),
        accepted=day.accepted,
        rejected=day.rejected,
        errors=day.error,
        processing_stats=LegacyProcessingStats(
            last_hour=_window(summary.last_hour), last_24_hours=_window(day)
        ),
        complete=summary.complete,
        as_of=summary.as_of,
    )


def _blur_metric(rule: BlurRule) -> str:
    return _REFERENCE_METRIC.get(rule.measure, rule.measure)


def _blur_levels(rule: BlurRule) -> dict[str, float]:
    # The reference calls 3x its threshold excellent; edge slopes saturate near 50.
    top = 3.0 if rule.measure == "laplacian_variance" else 1.25
    return {"excellent": round(rule.threshold * top, 2), "acceptable": rule.threshold, "poor": 0}


def _max_clip_percent(rule: ExposureRule) -> float:
    return round(100.0 * max(rule.max_shadow_clip, rule.max_highlight_clip), 2)


def _reference_rules(checks: Checks) -> dict[str, dict[str, object]]:
    """The reference's rule keys, from a profile (its names, our values)."""
    exposure = checks.exposure
    return {
        "blur": {
            "metric": _blur_metric(checks.blur),
            "min_score": checks.blur.threshold,
            "levels": _blur_levels(checks.blur),
        },
        "brightness": {
            "metric": "mean_pixel_intensity",
            "range": [checks.brightness.min, checks.brightness.max],
            "quality_score_min": checks.brightness.min_quality_score or 0,
        },
        "resolution": {"recommended_megapixels": max(2.0, checks.resolution.min_megapixels)},
        "exposure": {
            "metric": "dynamic_range",
            # The reference credits a failed range against min_score (100) and passes from 120.
            "min_score": exposure.credit_dynamic_range or exposure.min_dynamic_range,
            "acceptable_range": [exposure.min_dynamic_range, 255],
            "check_clipping": {"max_percentage": _max_clip_percent(exposure)},
        },
        "metadata": {
            "required_fields": list(METADATA_FIELDS),
            "min_completeness_percentage": checks.metadata.min_completeness,
        },
    }


def validation_rules(rules: Rules) -> dict[str, dict[str, object]]:
    """Each check's rule in this profile's names, plus the reference's names for its five."""
    ours: dict[str, dict[str, object]] = rules.checks.model_dump(mode="json", exclude_none=True)
    for name, keys in _reference_rules(rules.checks).items():
        ours[name] = {**ours[name], **keys}
    return ours


def rules_applied(rules: Rules) -> dict[str, str]:
    """One line per check, as the reference's ``validation_rules_applied``."""
    c = rules.checks
    res = c.resolution
    return {
        "blur": f"{_blur_metric(c.blur)} >= {c.blur.threshold:g}",
        "brightness": f"mean_pixel_intensity {c.brightness.min:g}-{c.brightness.max:g}",
        "resolution": f"min {res.min_width}x{res.min_height}, >= {res.min_megapixels:g}MP",
        "exposure": f"dynamic_range >= {c.exposure.min_dynamic_range:g}, "
        f"clipping <= {_max_clip_percent(c.exposure):g}%",
        "metadata": f"{len(METADATA_FIELDS)} required fields, "
        f">= {c.metadata.min_completeness:g}% completeness",
        "overall": f"weighted scoring system, pass at >= {rules.accept_score:g}% overall score",
    }


def api_info(rules: Rules, now: datetime, engine_version: str) -> LegacyApiInfo:
    return LegacyApiInfo(
        timestamp=now.isoformat(),
        validation_rules_applied=rules_applied(rules),
        endpoints={
            "GET /api/health": "Health check",
            "POST /api/validate": "Validate a photo (waits for the verdict, bounded)",
            "GET /api/summary": "Processing statistics",
            "GET /api/validation-rules": "Current validation rules",
            "GET /api/test-api": "This endpoint",
            "POST /api/upload": "Deprecated alias of /api/validate",
            "POST /v1/images": "Successor: submit a photo",
            "GET /v1/images/{id}": "Successor: the verdict",
        },
        example_response_structure=LegacyEnvelope[LegacyValidation].model_json_schema(),
        features=[
            "Weighted scoring with partial credit",
            "Per-check results with recommendations in the caller's language",
            "Stream processing: Kafka and S3 object storage",
        ],
        engine_version=engine_version,
    )
