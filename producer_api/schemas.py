"""Bodies the API answers with, one model per direction (as FastAPI's template does).

Event payloads live in :mod:`core.events`; these are the HTTP views of them. Field
names are part of the public contract: add, never rename.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.events import VerdictEvent
from core.rules import Rules
from core.schema import Outcome


class _Public(BaseModel):
    model_config = ConfigDict(frozen=True)


class ErrorBody(_Public):
    """Every 4xx/5xx this API produces itself (validation errors keep FastAPI's list form)."""

    detail: str = Field(description="What went wrong and, where possible, what to do.")
    code: str = Field(description="Stable machine-readable reason, e.g. 'payload_too_large'.")


class ImageAccepted(_Public):
    """202 answer to an upload: the image is stored and announced, scoring is pending."""

    id: str = Field(description="Server-assigned UUIDv7.")
    status: Literal["pending"] = "pending"
    status_url: str = Field(description="Poll this for the verdict.")
    submitted_at: datetime
    format: str = Field(description="Detected from the bytes, e.g. jpeg.")
    size_bytes: int = Field(ge=0)
    sha256: str
    replayed: bool = Field(
        default=False, description="True when an Idempotency-Key matched an earlier upload."
    )


class ImagePending(_Public):
    """``GET /v2/images/{id}`` before a consumer stored the verdict."""

    schema_version: Literal[2] = 2
    id: str
    status: Literal["pending"] = "pending"
    submitted_at: datetime | None = None


class ImageScored(VerdictEvent):
    """``GET /v2/images/{id}`` once scored: the verdict event, flat, plus the resource's status.

    ``error`` when the image could not be scored (``error`` says why).
    """

    id: str
    status: Literal["scored", "error"]

    @classmethod
    def from_event(cls, event: VerdictEvent) -> ImageScored:
        status = "error" if event.outcome is Outcome.ERROR else "scored"
        return cls.model_validate({**dict(event), "id": event.image_id, "status": status})


#: ``GET /v2/images/{id}``: either shape, told apart by ``status``; both carry
#: ``schema_version`` 2. ``GET /v1/images/{id}`` keeps 0.1.0's (:mod:`producer_api.schemas_v1`).
ImageStatus = Annotated[ImagePending | ImageScored, Field(discriminator="status")]


class OutcomeCounts(_Public):
    total: int = Field(ge=0, description="Images with a verdict in the window, each counted once.")
    accepted: int = Field(ge=0)
    rejected: int = Field(ge=0)
    error: int = Field(ge=0)
    acceptance_rate: float | None = Field(
        description="accepted / total; null when there were no verdicts.", ge=0, le=1
    )


class WindowSummary(OutcomeCounts):
    by_tenant: dict[str, OutcomeCounts] = Field(default_factory=dict)


class Summary(_Public):
    as_of: datetime = Field(description="Time of the newest verdict-topic read this replica made.")
    complete: bool = Field(
        description="False while this replica is still reading the last day of verdicts."
    )
    last_hour: WindowSummary
    last_day: WindowSummary


class RulesPublic(_Public):
    default_profile: str
    tenant_profiles: dict[str, str]
    profiles: dict[str, Rules]


class Liveness(_Public):
    status: Literal["ok"] = "ok"


class Readiness(_Public):
    status: Literal["ready", "unavailable"]
    checks: dict[str, str] = Field(description="'ok' or why the dependency is not usable.")


class CheckAdvice(_Public):
    title: str = Field(description="The check's name in the caller's language, e.g. Sharpness.")
    passed: bool
    reason: str = Field(description="Why it passed or failed, with the measured values.")
    advice: str | None = Field(default=None, description="What to do, when it failed.")


class ImageAdvice(_Public):
    """A verdict's texts in one language; the verdict itself carries only codes and values."""

    id: str
    language: str = Field(description="The language chosen from Accept-Language, e.g. es.")
    verdict: Literal["accepted", "rejected", "error"]
    checks: dict[str, CheckAdvice] = Field(default_factory=dict)
    recommendations: list[str] = Field(
        description="What to do, one line per distinct piece of advice (for an unreadable "
        "photo: how to send a readable one)."
    )
