"""``GET /v2/images/{id}``: the flat verdict event, with the resource's ``id`` and ``status``.

0.2.0's shape (codes and values, no prose): what the topic ``images.verdicts``
carries. ``/v1/images/{id}`` keeps 0.1.0's shape for the integrations written then.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path

from producer_api.deps import PrincipalDep, StoreDep
from producer_api.routes.images import STATUS_ERRORS, image_status
from producer_api.schemas import ImagePending, ImageScored, ImageStatus

router = APIRouter(prefix="/v2/images", tags=["images"])


@router.get(
    "/{image_id}",
    name="get_image_v2",
    response_model=ImageStatus,
    responses=STATUS_ERRORS,
)
async def get_image_v2(
    image_id: Annotated[uuid.UUID, Path(description="The id POST returned (a UUIDv7).")],
    store: StoreDep,
    principal: PrincipalDep,
) -> ImagePending | ImageScored:
    """Pending until a consumer stored the verdict, then the verdict event, flat.

    Texts in the reader's language: ``GET /v1/images/{id}/advice``.
    """
    return await image_status(image_id, store, principal)
