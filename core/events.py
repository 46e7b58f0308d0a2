"""Kafka event payloads shared by the ingest API, the consumers and subscribers.

Pure data (pydantic v2, frozen). JSON Schemas are exported to ``docs/schemas/``
and the topics are described in ``docs/asyncapi.yaml``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.schema import Verdict

#: Bump on any incompatible change; subscribers switch on ``schema_version``.
EVENT_SCHEMA_VERSION = 1


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


class VerdictEvent(_Frozen):
    """Published to ``images.verdicts`` (key = image id). Idempotent by ``image_id``.

    Version 2: the verdict carries codes and values, no prose (see :data:`VERDICT_SCHEMA_VERSION`).
    """

    schema_version: Literal[2] = 2
    image_id: str
    submitted_at: datetime
    scored_at: datetime
    metadata: SubmissionMetadata
    object: ObjectRef = Field(description="The object after it was filed by outcome.")
    verdict: Verdict
    redacted: ObjectRef | None = Field(
        default=None,
        description="A copy for publishing, filed next to the object as "
        "``{prefix}/yyyy/mm/dd/{id}.redacted.jpg``: every box the privacy check marked "
        "``redact`` pixelated, EXIF stripped. Set when the verdict says "
        "``redaction_required``; null otherwise (and for profiles without the privacy check).",
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
