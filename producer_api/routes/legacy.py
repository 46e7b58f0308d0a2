"""``/api/*``: the reference system's endpoints, kept for its existing clients. Deprecated.

``POST /api/validate`` is synchronous in the reference. Here it submits through the
same path as ``POST /v1/images`` (object store, then Kafka), then waits, at most
``LEGACY_VALIDATE_WAIT_S``, for a consumer to store the verdict. In time: the
reference's envelope with the summary and per-check results. Not in time: 202 with
the id and the status URL. Why, and what differs: ``docs/LEGACY_API.md``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError

from core.events import VerdictEvent
from core.version import ENGINE_VERSION
from producer_api.deps import (
    AdviceDep,
    FollowerDep,
    HeaderMetadataDep,
    OperatorDep,
    PrincipalDep,
    RulebookDep,
    SettingsDep,
    StoreDep,
    SubmitterDep,
    TenantKeyDep,
)
from producer_api.errors import ApiError, upload_refused
from producer_api.legacy import documents, validation
from producer_api.legacy.documents import (
    LegacyApiInfo,
    LegacyHealth,
    LegacyProcessingSummary,
)
from producer_api.legacy.envelope import LegacyEnvelope, failure, legacy_status
from producer_api.legacy.upload import LegacyUpload, upload_of
from producer_api.legacy.validation import LegacyValidation, Texts
from producer_api.routes import summary
from producer_api.routes.images import image_body, image_status_url
from producer_api.schemas import ErrorBody
from producer_api.upload_errors import UploadError
from runtime.layout import verdict_key
from runtime.object_store import ObjectStore, StorageUnavailableError

#: RFC 9745 ``Deprecation`` value: the date these endpoints were marked deprecated.
DEPRECATED_SINCE = datetime(2026, 11, 26, tzinfo=UTC)
_DEPRECATION = f"@{int(DEPRECATED_SINCE.timestamp())}"
#: Verdict polling while ``/api/validate`` waits: first delay, growth, ceiling (seconds).
_POLL_FIRST_S, _POLL_GROWTH, _POLL_MAX_S = 0.05, 1.5, 0.5


def _deprecated(response: Response) -> None:
    response.headers["Deprecation"] = _DEPRECATION
    response.headers["Link"] = '</docs>; rel="deprecation"; type="text/html"'


@dataclass(frozen=True)
class _Scored:
    """A photo the validate routes submitted: its verdict, or None if not ready in time."""

    image_id: str
    status_url: str
    event: VerdictEvent | None

    @property
    def message(self) -> str:
        if self.event is None:
            return "Image accepted; the verdict is not ready yet, poll data.status_url"
        return "Image validation completed"

    def validation(self, texts: Texts) -> LegacyValidation:
        if self.event is None:
            return validation.pending_validation(self.image_id, self.status_url)
        return validation.validation_of(self.event, self.status_url, texts)


_ROUTER_ARGS: dict[str, Any] = {
    "prefix": "/api",
    "tags": ["legacy"],
    "deprecated": True,
    "dependencies": [Depends(_deprecated)],
}
#: ``/api/health`` only: answered without a key, like the reference; it tells nothing
#: but that the process is alive.
public_router = APIRouter(**_ROUTER_ARGS)
router = APIRouter(
    **_ROUTER_ARGS,
    # Raised by the key check before a route runs, so in the API's own error body.
    responses={
        401: {"model": ErrorBody, "description": "Missing or unknown API key."},
        429: {"model": ErrorBody, "description": "Rate limited; see Retry-After."},
    },
)

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["image"],
                    "properties": {"image": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}
_VALIDATE_RESPONSES: dict[int | str, dict[str, object]] = {
    202: {
        "model": LegacyEnvelope[LegacyValidation],
        "description": "Stored and queued; no verdict within LEGACY_VALIDATE_WAIT_S. "
        "data.summary.overall_status is pending; poll data.status_url.",
    },
    **{
        code: {"model": LegacyEnvelope[None], "description": text}
        for code, text in {
            400: "No image, an empty one, or not an image (the reference's 400s).",
            403: "X-Tenant names a tenant this key may not upload for.",
            408: "The client stopped sending.",
            413: "Over MAX_CONTENT_LENGTH: File too large.",
            503: "Object storage or Kafka unavailable, or every upload slot of this "
            "replica is taken; see Retry-After.",
        }.items()
    },
    # The key check's rate limit answers in the API's own body; the upload slots of one
    # key (MAX_CONCURRENT_UPLOADS_PER_KEY), counted by the submission, in the envelope.
    429: {
        "model": LegacyEnvelope[None] | ErrorBody,
        "description": "Rate limited, or this key's uploads in flight are at "
        "MAX_CONCURRENT_UPLOADS_PER_KEY; see Retry-After.",
    },
}


@public_router.get("/health", response_model=LegacyEnvelope[LegacyHealth])
async def legacy_health() -> LegacyEnvelope[LegacyHealth]:
    """Liveness in the reference's envelope: no key, no version, no dependency probed."""
    return LegacyEnvelope[LegacyHealth](
        success=True, message="Service is running", data=LegacyHealth()
    )


async def _submit_and_wait(
    request: Request,
    response: Response,
    settings: SettingsDep,
    submitter: SubmitterDep,
    store: StoreDep,
    header_metadata: HeaderMetadataDep,
    principal: PrincipalDep,
) -> LegacyEnvelope[None] | _Scored:
    """The shared submission path of ``POST /v1/images``, then a bounded wait.

    Returns the error envelope, or the image's id, status URL and verdict (None when
    not ready in time: 202, as the image is stored and queued).
    """
    try:
        body = image_body(request, settings)
        accepted = await submitter.submit(body, header_metadata, None, principal)
    except UploadError as exc:
        return _failed(response, upload_refused(exc))
    image_id = accepted.event.image_id
    status_url = image_status_url(request, settings, image_id)
    response.headers["Location"] = status_url
    event = await _verdict_within(store, image_id, settings.legacy_validate_wait_s)
    if event is None:
        response.status_code = 202
    return _Scored(image_id, status_url, event)


SubmittedDep = Annotated[LegacyEnvelope[None] | _Scored, Depends(_submit_and_wait)]


@router.post(
    "/validate",
    response_model=LegacyEnvelope[LegacyValidation],
    responses=_VALIDATE_RESPONSES,
    openapi_extra=_UPLOAD_BODY,
    summary="Validate a photo and wait (bounded) for its verdict",
)
async def legacy_validate(
    submitted: SubmittedDep, texts: AdviceDep
) -> LegacyEnvelope[LegacyValidation] | LegacyEnvelope[None]:
    """Use ``POST /v1/images`` and ``GET /v1/images/{id}`` instead."""
    if isinstance(submitted, LegacyEnvelope):
        return submitted
    return LegacyEnvelope[LegacyValidation](
        success=True, message=submitted.message, data=submitted.validation(texts)
    )


def _successor_link(response: Response) -> None:
    """Beside the deprecation link (the router's dependency, run first), not instead of it."""
    links = (response.headers.get("Link"), '</api/validate>; rel="successor-version"')
    response.headers["Link"] = ", ".join(link for link in links if link)


@router.post(
    "/upload",
    response_model=LegacyEnvelope[LegacyUpload],
    responses=_VALIDATE_RESPONSES,
    openapi_extra=_UPLOAD_BODY,
    summary="Alias of /api/validate, with the older answer's keys",
    dependencies=[Depends(_successor_link)],
)
async def legacy_upload(
    submitted: SubmittedDep, texts: AdviceDep
) -> LegacyEnvelope[LegacyUpload] | LegacyEnvelope[None]:
    """Deprecated in the reference too; use ``POST /v1/images`` instead."""
    if isinstance(submitted, LegacyEnvelope):
        return submitted
    event = submitted.event
    data = upload_of(
        submitted.validation(texts),
        event,
        timestamp=event.scored_at if event is not None else datetime.now(UTC),
        image_path=event.object.key if event is not None else submitted.image_id,
    )
    return LegacyEnvelope[LegacyUpload](success=True, message=submitted.message, data=data)


@router.get(
    "/summary",
    response_model=LegacyEnvelope[LegacyProcessingSummary],
    responses={
        403: {"model": ErrorBody, "description": "Needs an operator key (counts of all tenants)."},
        503: {"model": LegacyEnvelope[None], "description": "Not caught up yet."},
    },
)
async def legacy_summary(
    response: Response, follower: FollowerDep, operator: OperatorDep
) -> LegacyEnvelope[LegacyProcessingSummary] | LegacyEnvelope[None]:
    """The last day's counts from this replica's verdict-topic tally (``/v1/summary``)."""
    try:
        counts = await summary.get_summary(follower, operator)
    except ApiError as exc:
        return _failed(response, exc)
    return LegacyEnvelope[LegacyProcessingSummary](
        success=True,
        message="Processing summary retrieved",
        data=documents.processing_summary(counts),
    )


@router.get(
    "/validation-rules",
    response_model=LegacyEnvelope[dict[str, dict[str, object]]],
    responses={403: {"model": ErrorBody, "description": "Public upload keys may not read rules."}},
)
async def legacy_validation_rules(
    settings: SettingsDep, rulebook: RulebookDep, _key: TenantKeyDep
) -> LegacyEnvelope[dict[str, dict[str, object]]]:
    """The default profile's checks, keyed by check name, in its and the reference's names."""
    rules = rulebook[settings.rule_profile]
    return LegacyEnvelope[dict[str, dict[str, object]]](
        success=True,
        message=f"Current validation rules (profile {rules.name} {rules.version}, "
        f"accept score {rules.accept_score:g})",
        data=documents.validation_rules(rules),
    )


@router.get("/test-api", response_model=LegacyEnvelope[LegacyApiInfo])
async def legacy_test_api(
    settings: SettingsDep, rulebook: RulebookDep
) -> LegacyEnvelope[LegacyApiInfo]:
    return LegacyEnvelope[LegacyApiInfo](
        success=True,
        message="API information retrieved",
        data=documents.api_info(rulebook[settings.rule_profile], datetime.now(UTC), ENGINE_VERSION),
    )


async def _verdict_within(
    store: ObjectStore, image_id: str, timeout_s: float
) -> VerdictEvent | None:
    """The stored verdict, polled with backoff; None when none appears within ``timeout_s``.

    A store outage while waiting also gives None: the image is already accepted, so
    the honest answer is 202 with the status URL, not an error.
    """
    key = verdict_key(uuid.UUID(image_id))
    deadline = time.monotonic() + timeout_s
    delay = _POLL_FIRST_S
    while True:
        try:
            data = await store.fetch_if_exists(key)
        except StorageUnavailableError:
            data = None
        if data is not None:
            try:
                return VerdictEvent.model_validate_json(data)
            except ValidationError:
                return None  # GET /v1/images/{id} reports it as bad_verdict
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        await asyncio.sleep(min(delay, left))
        delay = min(delay * _POLL_GROWTH, _POLL_MAX_S)


def _failed(response: Response, error: ApiError) -> LegacyEnvelope[None]:
    response.status_code = legacy_status(error)
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    return failure(error)
