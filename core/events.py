"""Kafka event payloads shared by the ingest API, the consumers and subscribers.

Pure data (pydantic v2, frozen). JSON Schemas are exported to ``docs/schemas/``
and the topics are described in ``docs/asyncapi.yaml``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
    Verdict,
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Location(_Frozen):
    """Where the reporter says the issue is (not the photo's EXIF GPS)."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0)


class SubmissionMetadata(_Frozen):
    """Client metadata that flows unchanged from the upload to the verdict."""

    tenant: str = Field(
        default="default",
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Municipality the report belongs to; selects the rule profile.",
    )
    reporter_id: str | None = Field(default=None, max_length=128)
    category: str | None = Field(
        default=None, max_length=64, description="Reported issue, e.g. pothole, graffiti."
    )
    location: Location | None = None


class ObjectRef(_Frozen):
    """Where the image bytes live in object storage."""

    bucket: str
    key: str
    size_bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    content_type: str
    format: str


class ImageSubmitted(_Frozen):
    """Published to ``images.submitted`` (key = image id) once the object is durable."""

    schema_version: Literal[1] = 1
    image_id: str
    submitted_at: datetime
    object: ObjectRef
    metadata: SubmissionMetadata = SubmissionMetadata()


class NearDuplicate(_Frozen):
    """An earlier photo of the same tenant that looks like this one (information, never a
    rejection)."""

    image_id: str
    distance: int = Field(ge=0, le=64, description="Fingerprint bits that differ (0: same).")
    submitted_at: datetime


class FingerprintRecord(_Frozen):
    """Published to ``images.fingerprints`` (key = image id, compacted) for each scored
    photo; every consumer replica reads the topic into its near-duplicate index."""

    schema_version: Literal[1] = 1
    image_id: str
    tenant: str
    fingerprint: str = Field(pattern=r"^[0-9a-f]{16}$")
    submitted_at: datetime
    location: Location | None = None
    sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="The photo's SHA-256, when its bytes matched their event's digest and "
        "exact duplicates are on: a later copy with the same digest and rules gets this "
        "photo's verdict.",
    )
    rules: str | None = Field(
        default=None,
        max_length=128,
        description="What scored the photo (profile name and a hash of its rules and engine "
        "version), set with sha256.",
    )


class VerdictEvent(_Frozen):
    """Published to ``images.verdicts`` (key = image id), stored as ``verdicts/{id}.json`` and
    served by ``GET /v1/images/{id}``. Idempotent by ``image_id``.

    Flat: what a subscriber acts on (outcome, score, quality, checks, where the photo
    is, which rules decided) sits at the top level. Language-neutral: codes and values,
    no prose; a subscriber renders each check's ``reason_code`` and the ``error`` code
    with the message catalogues, or asks ``GET /v1/images/{id}/advice``. Each model's
    ``schema_version`` field is the one place its version is written: bump it on any
    incompatible change. Version 1 nested the engine's :class:`~core.schema.Verdict`
    (with its English texts) under ``verdict``; it is no longer produced, and a stored
    version 1 verdict is read as version 2 (:meth:`_from_version_1`).
    """

    schema_version: Literal[2] = 2
    image_id: str
    submitted_at: datetime
    scored_at: datetime
    metadata: SubmissionMetadata
    outcome: Outcome
    score: float | None = Field(ge=0, le=100, description="Weighted 0-100; null for errors.")
    quality: Quality | None
    accept_score: float = Field(description="Score at or above which a photo is accepted.")
    checks: dict[str, CheckResult]
    vetoed_by: list[str] = Field(description="Blocking checks that rejected the photo alone.")
    error: ErrorInfo | None = Field(description="Why the photo could not be scored at all.")
    object: ObjectRef = Field(description="The stored photo, tagged with its outcome.")
    redacted: ObjectRef | None = Field(
        default=None,
        description="A copy for publishing, stored next to the photo with its tag as "
        "``photos/yyyy/mm/dd/{id}.redacted.jpg``: every box the privacy check marked "
        "``redact`` pixelated, EXIF stripped. Set when ``redaction_required``; null "
        "otherwise (and for profiles without the privacy check).",
    )
    rules: ProfileRef = Field(description="The rule profile and its version that decided.")
    engine_version: str
    image: ImageInfo | None
    exif: ExifSummary | None
    detections: list[Detection] | None = None
    redaction_required: bool | None = None
    timings: Timings
    fingerprint: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{16}$",
        description="64-bit perceptual hash of the photo, hex (null for errors).",
    )
    near_duplicates: list[NearDuplicate] | None = Field(
        default=None,
        description="Earlier photos of the same tenant within the window (and the distance "
        "when both carry a location) whose fingerprints are close, closest first. Null when "
        "near-duplicate search is off or the photo was not scored.",
    )
    duplicate_of: str | None = Field(
        default=None,
        description="Set when these exact bytes were already scored for the same tenant with "
        "the same rules: the image id whose verdict this one repeats (its checks, score and "
        "timings), without scoring again. Null for a photo that was scored.",
    )

    @classmethod
    def of(
        cls,
        verdict: Verdict,
        *,
        image_id: str,
        submitted_at: datetime,
        scored_at: datetime,
        metadata: SubmissionMetadata,
        object: ObjectRef,
        redacted: ObjectRef | None = None,
    ) -> VerdictEvent:
        """The event for the engine's ``verdict`` of one submission."""
        return cls.model_validate(
            {
                **_flat(verdict),
                "image_id": image_id,
                "submitted_at": submitted_at,
                "scored_at": scored_at,
                "metadata": metadata,
                "object": object,
                "redacted": redacted,
            }
        )

    @model_validator(mode="before")
    @classmethod
    def _from_version_1(cls, data: Any) -> Any:
        """A version 1 event (``verdict`` nested) as version 2, for verdicts stored before."""
        if not isinstance(data, dict) or data.get("schema_version") != 1:
            return data
        upgraded = {k: v for k, v in data.items() if k not in ("schema_version", "verdict")}
        return {**_flat(Verdict.model_validate(_without_prose(data["verdict"]))), **upgraded}


#: What a version 1 verdict said in English; version 2 renders it from codes instead.
_PROSE = ("reason", "recommendation")


def _without_prose(verdict: Any) -> Any:
    """A version 1 engine verdict as version 2: the same codes and values, no texts."""
    if not isinstance(verdict, dict):
        return verdict
    checks = verdict.get("checks") or {}
    return {
        **{k: v for k, v in verdict.items() if k != "recommendations"},
        "schema_version": 2,
        "checks": {
            name: {k: v for k, v in check.items() if k not in _PROSE}
            if isinstance(check, dict)
            else check
            for name, check in checks.items()
        },
    }


def _flat(verdict: Verdict) -> dict[str, Any]:
    """The engine's verdict under the event's names (``outcome``, ``rules``)."""
    fields = verdict.model_dump(exclude={"schema_version", "image_id"})
    fields["outcome"] = fields.pop("verdict")
    fields["rules"] = fields.pop("profile")
    return fields


class ShadowVerdict(_Frozen):
    """Published to ``images.verdicts.shadow`` (key = image id) for a sampled photo of a
    tenant that has a candidate profile: the candidate's verdict, scored on the same decode
    as the live one. Nothing acts on it; compare it with the photo's ``VerdictEvent`` (the
    live verdict, unchanged by the shadow) on ``images.verdicts``."""

    schema_version: Literal[1] = 1
    image_id: str
    submitted_at: datetime
    scored_at: datetime
    tenant: str
    live_rules: ProfileRef = Field(
        description="The live profile whose verdict this one shadows (``rules`` of the "
        "photo's verdict event)."
    )
    rules: ProfileRef = Field(description="The candidate profile and version that scored.")
    outcome: Outcome = Field(description="What the candidate would have decided.")
    score: float | None = Field(ge=0, le=100, description="Weighted 0-100; null for errors.")
    quality: Quality | None
    accept_score: float
    checks: dict[str, CheckResult]
    vetoed_by: list[str]
    error: ErrorInfo | None
    engine_version: str
    timings: Timings = Field(description="The candidate's scoring; ``decode_ms`` is shared.")

    @classmethod
    def of(
        cls,
        shadow: Verdict,
        *,
        live_rules: ProfileRef,
        image_id: str,
        submitted_at: datetime,
        scored_at: datetime,
        tenant: str,
    ) -> ShadowVerdict:
        """The event for the candidate's ``shadow`` verdict of one submission."""
        flat = _flat(shadow)
        return cls.model_validate(
            {
                **{name: flat[name] for name in cls.model_fields if name in flat},
                "image_id": image_id,
                "submitted_at": submitted_at,
                "scored_at": scored_at,
                "tenant": tenant,
                "live_rules": live_rules,
            }
        )


class DeadLetterReason(StrEnum):
    """Why an event left the stream for the dead-letter topic (a bounded label set)."""

    INVALID_EVENT = "invalid_event"
    OBJECT_MISSING = "object_missing"
    #: No longer produced: object-store outages are retried until the store is back.
    #: Kept so that letters written by older consumers still parse.
    STORAGE_UNAVAILABLE = "storage_unavailable"
    WORKER_CRASHED = "worker_crashed"


class SourceRecord(_Frozen):
    """Where the failed event sat, so an operator can replay it from the source topic."""

    topic: str
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)


class DeadLetter(_Frozen):
    """Published to ``images.submitted.dlq`` (key = the original key) when an event could not
    be scored after bounded retries, so that its partition keeps moving."""

    schema_version: Literal[1] = 1
    image_id: str | None = Field(description="None when the event itself could not be parsed.")
    failed_at: datetime
    reason: DeadLetterReason
    error: str = Field(description="The last error, for an operator to read; not for parsing.")
    attempts: int = Field(ge=1)
    source: SourceRecord
    payload: str = Field(description="The original message value (UTF-8, bad bytes replaced).")
