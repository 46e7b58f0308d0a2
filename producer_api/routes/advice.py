"""``GET /v1/images/{id}/advice``: a verdict's reasons and advice in the caller's language.

Verdicts carry codes and values only, so that every subscriber reads the same event;
the citizen's page, and any subscriber that would rather not render text itself, asks
here. The language comes from ``Accept-Language`` (English when none fits), and the
answer names it in ``Content-Language``.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path

from core.schema import Outcome
from producer_api.deps import AdviceDep, PrincipalDep, StoreDep
from producer_api.errors import ApiError
from producer_api.routes.images import image_status
from producer_api.schemas import CheckAdvice, ErrorBody, ImageAdvice, ImageScored

router = APIRouter(prefix="/v1/images", tags=["images"])


@router.get(
    "/{image_id}/advice",
    response_model=ImageAdvice,
    responses={
        401: {"model": ErrorBody, "description": "Missing or unknown API key."},
        403: {"model": ErrorBody, "description": "The image belongs to another tenant."},
        404: {"model": ErrorBody, "description": "No such image, or no verdict yet."},
        429: {"model": ErrorBody, "description": "Rate limited; see Retry-After."},
        503: {"model": ErrorBody, "description": "Object storage unavailable."},
    },
)
async def get_advice(
    image_id: Annotated[uuid.UUID, Path(description="The id POST returned (a UUIDv7).")],
    store: StoreDep,
    principal: PrincipalDep,
    advice: AdviceDep,
) -> ImageAdvice:
    """The texts of a stored verdict; 404 while the image is still pending."""
    status = await image_status(image_id, store, principal)
    if not isinstance(status, ImageScored):
        raise ApiError(404, "not_scored", f"image {image_id} has no verdict yet")
    checks = {
        name: CheckAdvice(
            title=advice.check_name(name),
            passed=check.passed,
            reason=advice.reason(check),
            advice=None if check.passed else advice.advice(check),
        )
        for name, check in status.checks.items()
    }
    unreadable = status.outcome is Outcome.ERROR
    return ImageAdvice(
        id=str(image_id),
        language=advice.language,
        verdict=status.outcome.value,
        checks=checks,
        recommendations=(
            [advice.error_advice(status.error)] if unreadable else advice.recommendations(status)
        ),
    )
