"""``/v1/images``: submit a photo, then poll its status until the verdict is there.

``GET /v1/images/{id}`` answers 0.1.0's shape (:mod:`producer_api.schemas_v1`), which
``status_url`` points to; ``GET /v2/images/{id}`` (:mod:`producer_api.routes.images_v2`)
the flat verdict event. Both read the stored verdict through :func:`image_status`.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import ValidationError

from core.events import SubmissionMetadata, VerdictEvent
from producer_api.deps import (
    EnglishDep,
    IdempotencyKeyHeader,
    PrincipalDep,
    StoreDep,
    header_metadata,
    usable_idempotency_key,
)
from producer_api.errors import ApiError, upload_refused
from producer_api.intake import ImageBody
from producer_api.schemas import ErrorBody, ImageAccepted, ImagePending, ImageScored
from producer_api.schemas_v1 import ImageStatusV1, image_status_v1
from producer_api.security import Principal
from producer_api.settings import Settings
from producer_api.submissions import Submitter
from producer_api.upload_errors import UploadError
from runtime.apikeys import KeyRole
from runtime.ids import issued_at
from runtime.layout import PHOTO_FOLDERS, photo_prefix, verdict_key
from runtime.object_store import ObjectStore, StorageUnavailableError

router = APIRouter(prefix="/v1/images", tags=["images"])

_METADATA_FIELDS_SCHEMA: dict[str, Any] = {
    "tenant": {"type": "string", "description": "Municipality; header X-Tenant for raw bodies."},
    "reporter_id": {"type": "string", "description": "Header X-Reporter-Id."},
    "category": {"type": "string", "description": "e.g. pothole. Header X-Category."},
    "latitude": {"type": "number", "description": "Header X-Latitude."},
    "longitude": {"type": "number", "description": "Header X-Longitude."},
    "accuracy_m": {"type": "number", "description": "Header X-Accuracy-M."},
}
_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["image"],
                    "properties": {
                        "image": {"type": "string", "format": "binary"},
                        **_METADATA_FIELDS_SCHEMA,
                    },
                }
            },
            "image/*": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        400: "Empty or malformed upload.",
        408: "The client stopped sending, or did not finish within UPLOAD_TIMEOUT_S.",
        409: "The record of this Idempotency-Key is unreadable; use a new key.",
        413: "Over MAX_CONTENT_LENGTH.",
        415: "Not an image (sniffed from the bytes) or not a supported request type.",
        401: "Missing or unknown API key.",
        403: "The key may not upload for that tenant.",
        422: "Invalid metadata or form.",
        429: "The key's rate limit or upload concurrency (MAX_CONCURRENT_UPLOADS_PER_KEY) "
        "is reached; see Retry-After.",
        503: "Object storage or Kafka unavailable, or every upload slot taken: nothing "
        "was accepted; retry.",
    }.items()
}


def image_body(request: Request, settings: Settings) -> ImageBody:
    """The request's image, bounded as configured (also used by the legacy routes)."""
    return ImageBody(
        request,
        max_bytes=settings.max_content_length,
        idle_timeout_s=settings.upload_idle_timeout_s,
        deadline_s=settings.upload_timeout_s,
    )


def image_status_url(request: Request, settings: Settings, image_id: str) -> str:
    """Where a client polls for ``image_id``'s verdict (also used by the legacy routes).

    The path is :func:`get_image`'s, spelled here rather than looked up by name with
    ``request.url_for``, which walks every route of the app on each upload.
    """
    path = f"{router.prefix}/{image_id}"
    if settings.public_base_url is not None:
        return f"{str(settings.public_base_url).rstrip('/')}{path}"
    # What URLPath(path).make_absolute_url(request.base_url) gives, without parsing the
    # base URL back into parts: the base has no query, and its path is the root path.
    return f"{str(request.base_url).rstrip('/')}{path}"


@router.post(
    "",
    status_code=202,
    response_model=ImageAccepted,
    responses=_ERRORS,
    openapi_extra=_UPLOAD_BODY,
    summary="Submit a photo for quality control",
)
async def submit_image(
    request: Request, principal: PrincipalDep, idempotency_key: IdempotencyKeyHeader = None
) -> Response:
    """202 only once the photo is stored and announced on Kafka; scoring happens later.

    ``async`` because it streams the body; every blocking store call runs in a pool.
    The answer is serialized here, once: returned as a model, FastAPI would validate
    the model it was just built from again before dumping it (``response_model`` still
    documents it).
    """
    # Only the key check is a dependency (it declares the security schemes): FastAPI's
    # generic solving of each dependency cost an upload more CPU than its Kafka publish
    # (bench.upload_cost), so settings, submitter and headers are read here directly.
    settings: Settings = request.app.state.settings
    submitter: Submitter = request.app.state.submitter
    key = usable_idempotency_key(idempotency_key)
    try:
        body = image_body(request, settings)
        accepted = await submitter.submit(body, header_metadata(request.headers), key, principal)
    except UploadError as exc:
        raise upload_refused(exc) from exc
    event = accepted.event
    status_url = image_status_url(request, settings, event.image_id)
    headers = {"Location": status_url}
    if accepted.replayed:
        headers["Idempotent-Replayed"] = "true"
    answer = ImageAccepted(
        id=event.image_id,
        status_url=status_url,
        submitted_at=event.submitted_at,
        format=event.object.format,
        size_bytes=event.object.size_bytes,
        sha256=event.object.sha256,
        replayed=accepted.replayed,
    )
    return Response(
        answer.model_dump_json(), status_code=202, headers=headers, media_type="application/json"
    )


#: What reading an image's status may answer besides 200 (both versions).
STATUS_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or unknown API key."},
    403: {"model": ErrorBody, "description": "The image belongs to another tenant."},
    404: {"model": ErrorBody, "description": "No such image."},
    429: {"model": ErrorBody, "description": "Rate limited; see Retry-After."},
    503: {"model": ErrorBody, "description": "Object storage unavailable."},
}


@router.get(
    "/{image_id}",
    name="get_image",
    response_model=ImageStatusV1,
    responses=STATUS_ERRORS,
)
async def get_image(
    image_id: Annotated[uuid.UUID, Path(description="The id POST returned (a UUIDv7).")],
    store: StoreDep,
    principal: PrincipalDep,
    english: EnglishDep,
) -> ImageStatusV1:
    """The 0.1.0 shape: ``verdict`` nests the verdict event, with English texts.

    New integrations read ``GET /v2/images/{id}`` (flat, codes and values) and ask
    ``/v1/images/{id}/advice`` for texts in their language.
    """
    return image_status_v1(await image_status(image_id, store, principal), english)


async def image_status(
    image_id: uuid.UUID, store: ObjectStore, principal: Principal
) -> ImagePending | ImageScored:
    """The verdict once a consumer stored it; otherwise pending while the photo exists.

    403 when the verdict's tenant is not the key's. A pending image's tenant is not
    known yet, so its (contentless) pending status is shown to any key.
    """
    try:
        status = await _image_status(store, image_id)
    except StorageUnavailableError as exc:
        raise ApiError(
            503,
            "object_storage_unavailable",
            f"cannot read the status now: {exc}",
            {"Retry-After": "1"},
        ) from exc
    if isinstance(status, ImageScored) and not principal.may_act_for(status.metadata.tenant):
        raise ApiError(403, "forbidden", "this key may not read images of that tenant")
    return _public_view(status) if principal.role is KeyRole.PUBLIC else status


def _public_view(status: ImagePending | ImageScored) -> ImagePending | ImageScored:
    """What a public (page) key sees: the outcome and its checks, nothing about the reporter.

    Everyone behind a city's page shares its key, so an id learnt some other way must
    not show where, when and with what camera someone else took their photo.
    """
    if isinstance(status, ImagePending):
        return status
    return status.model_copy(
        update={
            "metadata": SubmissionMetadata(tenant=status.metadata.tenant),
            "exif": None,
            "detections": None,
            "redacted": None,
        }
    )


async def _image_status(store: ObjectStore, image_id: uuid.UUID) -> ImagePending | ImageScored:
    submitted_at = issued_at(image_id)
    if submitted_at is None:  # not an id this service issues
        raise ApiError(404, "not_found", f"no image {image_id}")
    data = await store.fetch_if_exists(verdict_key(image_id))
    if data is not None:
        try:
            return ImageScored.from_event(VerdictEvent.model_validate_json(data))
        except ValidationError as exc:
            raise ApiError(
                500, "bad_verdict", f"the stored verdict of {image_id} does not validate"
            ) from exc
    for folder in PHOTO_FOLDERS:
        if await store.first_key(f"{photo_prefix(folder, image_id)}.") is not None:
            return ImagePending(id=str(image_id), submitted_at=submitted_at)
    raise ApiError(404, "not_found", f"no image {image_id}")
