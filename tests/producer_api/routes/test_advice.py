"""``GET /v1/images/{id}/advice``: a stored verdict's texts in the caller's language."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import pytest

from core import builtin_profile, score
from core.events import SubmissionMetadata, VerdictEvent
from runtime.catalogues import Catalogues
from runtime.ids import new_image_id
from runtime.layout import verdict_key
from tests.builders import images
from tests.builders.refs import jpeg_ref
from tests.producer_api.conftest import LiveApi

pytestmark = pytest.mark.integration

BLURRED = images.encode(images.gaussian_blurred(images.sharp_photo(1280, 960), 6.0))
CATALOGUES = Catalogues()


def _stored(live_api: LiveApi, data: bytes) -> str:
    """Store a verdict of ``data`` as a consumer would; returns the image id."""
    image_id = str(new_image_id())
    now = datetime.now(UTC)
    event = VerdictEvent.of(
        score(data, builtin_profile("default"), image_id=image_id),
        image_id=image_id,
        submitted_at=now,
        scored_at=now,
        metadata=SubmissionMetadata(),
        object=jpeg_ref(f"rejected/{image_id}.jpg", bucket=live_api.bucket, size_bytes=len(data)),
    )
    body = event.model_dump_json().encode()
    live_api.s3.put_object(
        live_api.bucket, verdict_key(uuid.UUID(image_id)), io.BytesIO(body), len(body)
    )
    return image_id


def test_a_rejected_photo_is_explained_in_the_asked_language(live_api: LiveApi) -> None:
    image_id = _stored(live_api, BLURRED)
    response = live_api.client.get(
        f"/v1/images/{image_id}/advice", headers={"Accept-Language": "es-AR,es;q=0.9"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Language"] == "es"
    body = response.json()
    assert (body["id"], body["language"], body["verdict"]) == (image_id, "es", "rejected")
    blur = body["checks"]["blur"]
    assert blur["title"] == "Nitidez" and blur["passed"] is False
    assert blur["reason"].startswith("La foto está borrosa")
    assert blur["advice"] == CATALOGUES.text("es", "blur.too_blurry.advice")
    assert blur["advice"] in body["recommendations"]
    assert all(check["advice"] is None for check in body["checks"].values() if check["passed"])


def test_an_unreadable_photo_gets_its_errors_advice(live_api: LiveApi) -> None:
    image_id = _stored(live_api, b"\xff\xd8\xff\xe0" + b"\x00" * 100)
    body = live_api.client.get(f"/v1/images/{image_id}/advice").json()
    assert body["language"] == "en" and body["verdict"] == "error" and body["checks"] == {}
    assert body["recommendations"] == [CATALOGUES.text("en", "error.corrupt")]


def test_no_verdict_is_404(live_api: LiveApi) -> None:
    response = live_api.client.get(f"/v1/images/{new_image_id()}/advice")
    assert response.status_code == 404
