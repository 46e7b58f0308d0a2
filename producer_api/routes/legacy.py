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
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError

from core.events import VerdictEvent
from core.schema import Outcome
from core.version import ENGINE_VERSION
from producer_api import legacy
from producer_api.deps import (
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
from producer_api.errors import ApiError
from producer_api.intake import ImageBody
from producer_api.legacy import (
    LegacyApiInfo,
    LegacyEnvelope,
    LegacyHealth,
    LegacyProcessingSummary,
    LegacyValidation,
)
from producer_api.routes import summary
from producer_api.routes.images import image_status_url
from producer_api.schemas import ErrorBody
from producer_api.security import Principal
from producer_api.settings import Settings
from producer_api.submissions import Submitter
from runtime.apikeys import ALL_TENANTS
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


router = APIRouter(
    prefix="/api",
    tags=["legacy"],
    deprecated=True,
    dependencies=[Depends(_deprecated)],
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
        "data.summary.overall_status is PENDING; poll data.status_url.",
    },
    **{
        code: {"model": LegacyEnvelope[None], "description": text}
        for code, text in {
            400: "Empty or malformed upload (MISSING_IMAGE).",
            408: "The client stopped sending (UPLOAD_TIMEOUT).",
            413: "Over MAX_CONTENT_LENGTH (FILE_TOO_LARGE).",
            415: "Not an image (INVALID_IMAGE).",
            422: "No 'image' field, or the image could not be decoded (INVALID_IMAGE).",
            503: "Object storage or Kafka unavailable; retry.",
        }.items()
    },
}


@router.get("/health", response_model=LegacyEnvelope[LegacyHealth])
async def legacy_health(
    settings: SettingsDep, rulebook: RulebookDep
) -> LegacyEnvelope[LegacyHealth]:
    """Liveness in the reference's envelope (no dependency is probed; see ``/readyz``)."""
    rules = rulebook[settings.rule_profile]
    return LegacyEnvelope[LegacyHealth](
        success=True,
        message="Service is running",
        data=LegacyHealth(
            api_version=ENGINE_VERSION, validation_rules=f"{rules.name}@{rules.version}"
        ),
    )


@router.post(
    "/validate",
    response_model=LegacyEnvelope[LegacyValidation],
    responses=_VALIDATE_RESPONSES,
    openapi_extra=_UPLOAD_BODY,
    summary="Validate a photo and wait (bounded) for its verdict",
)
async def legacy_validate(
    request: Request,
    response: Response,
    settings: SettingsDep,
    submitter: SubmitterDep,
    store: StoreDep,
    header_metadata: HeaderMetadataDep,
    principal: PrincipalDep,
) -> LegacyEnvelope[LegacyValidation] | LegacyEnvelope[None]:
    """Use ``POST /v1/images`` and ``GET /v1/images/{id}`` instead."""
    return await _validate(
        request, response, settings, submitter, store, header_metadata, principal
    )


def _successor_link(response: Response) -> None:
    response.headers["Link"] = '</api/validate>; rel="successor-version"'


# The same handler under the old path: the reference already marked it deprecated.
router.add_api_route(
    "/upload",
    legacy_validate,
    methods=["POST"],
    name="legacy_upload",
    response_model=LegacyEnvelope[LegacyValidation],
    responses=_VALIDATE_RESPONSES,
    openapi_extra=_UPLOAD_BODY,
    summary="Alias of /api/validate (deprecated in the reference too)",
    description="Same as ``/api/validate``; use ``POST /v1/images`` instead.",
    dependencies=[Depends(_successor_link)],
)


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
        data=legacy.processing_summary(counts),
    )


@router.get(
    "/validation-rules",
    response_model=LegacyEnvelope[dict[str, object]],
    responses={403: {"model": ErrorBody, "description": "Public upload keys may not read rules."}},
)
async def legacy_validation_rules(
    settings: SettingsDep, rulebook: RulebookDep, _key: TenantKeyDep
) -> LegacyEnvelope[dict[str, object]]:
    """The default profile's checks, keyed by check name as in the reference (as ``/v1/rules``)."""
    rules = rulebook[settings.rule_profile]
    checks: dict[str, object] = rules.checks.model_dump(mode="json", exclude_none=True)
    return LegacyEnvelope[dict[str, object]](
        success=True,
        message=f"Current validation rules (profile {rules.name} {rules.version}, "
        f"accept score {rules.accept_score:g})",
        data=checks,
    )


@router.get("/test-api", response_model=LegacyEnvelope[LegacyApiInfo])
async def legacy_test_api() -> LegacyEnvelope[LegacyApiInfo]:
    return LegacyEnvelope[LegacyApiInfo](
        success=True,
        message="API information retrieved",
        data=LegacyApiInfo(
            api_version=ENGINE_VERSION,
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
            features=[
                "Weighted scoring with partial credit",
                "Per-check results with plain-language recommendations",
                "Stream processing: Kafka and S3 object storage",
            ],
        ),
    )


async def _validate(
    request: Request,
    response: Response,
    settings: Settings,
    submitter: Submitter,
    store: ObjectStore,
    header_metadata: dict[str, str],
    principal: Principal,
) -> LegacyEnvelope[LegacyValidation] | LegacyEnvelope[None]:
    """The shared submission path of ``POST /v1/images``, then a bounded wait."""
    try:
        body = ImageBody(
            request,
            max_bytes=settings.max_content_length,
            idle_timeout_s=settings.upload_idle_timeout_s,
        )
        if principal.tenant != ALL_TENANTS:  # as POST /v1/images: the key's tenant by default
            header_metadata.setdefault("tenant", principal.tenant)
        accepted = await submitter.submit(
            body, header_metadata, None, may_act_for=principal.may_act_for
        )
    except ApiError as exc:
        return _failed(response, exc)
    image_id = accepted.event.image_id
    status_url = image_status_url(request, settings, image_id)
    response.headers["Location"] = status_url
    event = await _verdict_within(store, image_id, settings.legacy_validate_wait_s)
    if event is None:
        response.status_code = 202
        return LegacyEnvelope[LegacyValidation](
            success=True,
            message="Image accepted; the verdict is not ready yet, poll data.status_url",
            data=legacy.pending_validation(image_id, status_url),
        )
    data = legacy.validation_of(event, status_url)
    if event.outcome is Outcome.ERROR:
        response.status_code = 422
        error = event.error
        return LegacyEnvelope[LegacyValidation](
            success=False,
            message="Validation failed: the image could not be processed",
            data=data,
            error=legacy.LegacyError(
                code="INVALID_IMAGE",
                message=error.message if error else "the image could not be scored",
                details=error.code.value if error else None,
            ),
        )
    return LegacyEnvelope[LegacyValidation](
        success=True, message="Image validation completed", data=data
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
    response.status_code = error.status_code
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    return legacy.failure(error)
