"""``GET /v1/images/{id}`` as 0.1.0 answered it: the verdict event nested under ``verdict``.

0.2.0 flattened the verdict event and dropped its English texts; integrations written
against 0.1.0 still poll ``/v1`` (``status_url`` points there), so this path keeps
0.1.0's field names and texts, built from the stored verdict of either version. The
flat shape is ``GET /v2/images/{id}`` (:mod:`producer_api.schemas`). The texts are
rendered from each check's ``reason_code`` and values by :class:`runtime.advice.Advice`,
in English as 0.1.0 wrote them. Add, never rename: a field 0.1.0 had stays here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.events import ObjectRef, SubmissionMetadata, VerdictEvent
from core.schema import (
    CheckResult,
    Detection,
    ErrorInfo,
    ExifSummary,
    ImageInfo,
    Outcome,
    ProfileRef,
    Quality,
    Timings,
)
from producer_api.schemas import ImagePending, ImageScored
from runtime.advice import Advice


class CheckResultV1(CheckResult):
    """A check as 0.1.0 wrote it: the codes and values, and their English texts."""

    reason: str = Field(description="Plain-language explanation of the outcome.")
    recommendation: str | None = Field(
        default=None, description="What the citizen can do to get a better photo."
    )


class VerdictV1(BaseModel):
    """The engine's verdict as 0.1.0 nested it (``verdict``, ``profile``, texts)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    image_id: str | None = None
    verdict: Outcome
    score: float | None = Field(default=None, ge=0, le=100)
    quality: Quality | None = None
    accept_score: float
    checks: dict[str, CheckResultV1] = Field(default_factory=dict)
    vetoed_by: list[str] = Field(default_factory=list)
    recommendations: list[str] = Field(default_factory=list)
    image: ImageInfo | None = None
    exif: ExifSummary | None = None
    error: ErrorInfo | None = None
    detections: list[Detection] | None = None
    redaction_required: bool | None = None
    profile: ProfileRef
    timings: Timings
    engine_version: str


class VerdictEventV1(BaseModel):
    """The verdict event of ``schema_version`` 1: submission fields, the verdict nested."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    image_id: str
    submitted_at: datetime
    scored_at: datetime
    metadata: SubmissionMetadata
    object: ObjectRef
    verdict: VerdictV1
    redacted: ObjectRef | None = None


class ImageStatusV1(BaseModel):
    """``GET /v1/images/{id}``: pending until a consumer stored a verdict, then the verdict."""

    model_config = ConfigDict(frozen=True)

    id: str
    status: Literal["pending", "scored", "error"] = Field(
        description="pending until a consumer has stored a verdict; error when the image "
        "could not be scored (the verdict says why)."
    )
    submitted_at: datetime | None = None
    verdict: VerdictEventV1 | None = None


def image_status_v1(status: ImagePending | ImageScored, english: Advice) -> ImageStatusV1:
    """``status`` (the flat, ``/v2`` view, already trimmed for the key) in 0.1.0's shape."""
    if isinstance(status, ImagePending):
        return ImageStatusV1(id=status.id, status="pending", submitted_at=status.submitted_at)
    return ImageStatusV1(
        id=status.id,
        status=status.status,
        submitted_at=status.submitted_at,
        verdict=VerdictEventV1(
            image_id=status.image_id,
            submitted_at=status.submitted_at,
            scored_at=status.scored_at,
            metadata=status.metadata,
            object=status.object,
            verdict=_verdict_v1(status, english),
            redacted=status.redacted,
        ),
    )


def _verdict_v1(event: VerdictEvent, english: Advice) -> VerdictV1:
    return VerdictV1(
        image_id=event.image_id,
        verdict=event.outcome,
        score=event.score,
        quality=event.quality,
        accept_score=event.accept_score,
        checks={name: _check_v1(check, english) for name, check in event.checks.items()},
        vetoed_by=event.vetoed_by,
        # An unreadable photo has no checks, so no advice: 0.1.0 sent it none either.
        recommendations=english.recommendations(event),
        image=event.image,
        exif=event.exif,
        error=event.error,
        detections=event.detections,
        redaction_required=event.redaction_required,
        profile=event.rules,
        timings=event.timings,
        engine_version=event.engine_version,
    )


def _check_v1(check: CheckResult, english: Advice) -> CheckResultV1:
    return CheckResultV1(
        **dict(check),
        reason=english.reason(check),
        recommendation=None if check.passed else english.advice(check),
    )
