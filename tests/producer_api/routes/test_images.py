"""POST /v1/images and GET /v2/images/{id} (the 0.1.0 shape of /v1: test_image_versions.py).

Unit tests use an app whose Kafka and S3 are closed ports: every rejection they
check must happen before either is touched. Integration tests run on the real
stack from the session fixtures.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.datastructures import URLPath
from starlette.requests import Request

from core import builtin_profile, score
from core.events import ImageSubmitted, VerdictEvent
from producer_api.idempotency import record_key
from producer_api.intake import MAX_FIELDS
from producer_api.routes.images import image_status_url
from producer_api.settings import Settings
from runtime.ids import issued_at, new_image_id
from runtime.layout import PENDING, VERDICT_TAG, Folder, incoming_key, verdict_key
from runtime.object_store import DIGEST_METADATA
from tests.builders.stream import read_all
from tests.producer_api.conftest import LiveApi, jpeg_bytes

# ----------------------------------------------------------------------------- unit


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"", "image/jpeg", 400, "empty_upload"),
        (b"just some text, clearly not an image", "image/jpeg", 415, "not_an_image"),
        (b"%PDF-1.7\n" + b"x" * 100, "image/png", 415, "not_an_image"),
        (b"\xff\xd8\xff" + b"\x00" * 100, "text/plain", 415, "unsupported_media_type"),
    ],
)
def test_raw_uploads_rejected_before_storage(
    offline_client: TestClient, body: bytes, content_type: str, status: int, code: str
) -> None:
    response = offline_client.post(
        "/v1/images", content=body, headers={"Content-Type": content_type}
    )
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.json()["detail"]


def test_oversized_upload_is_413(offline_client: TestClient) -> None:
    limit = offline_client.app.state.settings.max_content_length  # type: ignore[attr-defined]
    big = jpeg_bytes()[:3] + b"\x00" * limit
    response = offline_client.post(
        "/v1/images", content=big, headers={"Content-Type": "image/jpeg"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_oversized_stream_without_length_is_413(offline_client: TestClient) -> None:
    """A chunked body has no Content-Length to check up front; counting must stop it."""
    limit = offline_client.app.state.settings.max_content_length  # type: ignore[attr-defined]

    def chunks() -> Iterator[bytes]:  # a generator: httpx sends Transfer-Encoding: chunked
        yield b"\xff\xd8\xff\xe0"
        for _ in range(limit // 4096 + 2):
            yield b"\x00" * 4096

    response = offline_client.post(
        "/v1/images", content=chunks(), headers={"Content-Type": "image/jpeg"}
    )
    # The limit is far below one S3 part, so the closed S3 port is never reached.
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "payload_too_large"


@pytest.mark.parametrize(
    ("files", "data", "status", "code"),
    [
        ({"photo": ("a.jpg", jpeg_bytes(), "image/jpeg")}, {}, 422, "unexpected_file"),
        ({}, {"tenant": "springfield"}, 422, "missing_image"),
        ({"image": ("a.jpg", b"", "image/jpeg")}, {}, 400, "empty_upload"),
        (
            {"image": ("a.txt", b"hello world, not an image at all", "text/plain")},
            {},
            415,
            "not_an_image",
        ),
    ],
)
def test_bad_forms(
    offline_client: TestClient,
    files: dict[str, tuple[str, bytes, str]],
    data: dict[str, str],
    status: int,
    code: str,
) -> None:
    if not files:  # httpx only sends multipart when there is a file; force it
        files = {"note": (None, "x")}  # type: ignore[dict-item]
    response = offline_client.post("/v1/images", files=files, data=data)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


def test_a_flood_of_form_parts_sharing_one_name_is_refused_at_the_limit(
    offline_client: TestClient,
) -> None:
    # Before: parts that reuse a name left the fields dict at one entry, so the count
    # never tripped: 670 000 of them in a 32 MiB body took 9 s of the event loop.
    part = b"--b\r\nContent-Disposition: form-data; name=note\r\n\r\nx\r\n"
    image = b"--b\r\nContent-Disposition: form-data; name=image; filename=a.jpg\r\n\r\n"
    body = part * 1000 + image + b"\xff\xd8\xff" + b"\r\n--b--\r\n"  # under the 64 KiB test limit
    response = offline_client.post(
        "/v1/images", content=body, headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "too_many_fields"
    assert f"at most {MAX_FIELDS}" in response.json()["detail"]


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Tenant": "Not A Slug!"},
        {"X-Latitude": "91", "X-Longitude": "0"},
        {"X-Latitude": "45"},
        {"Idempotency-Key": ""},
    ],
)
def test_bad_metadata_headers_are_rejected_before_reading(
    offline_client: TestClient, headers: dict[str, str]
) -> None:
    response = offline_client.post(
        "/v1/images", content=jpeg_bytes(), headers={"Content-Type": "image/jpeg", **headers}
    )
    assert response.status_code in (400, 422), response.text
    assert response.json()["detail"]


def test_storage_down_is_503_fast(offline_client: TestClient) -> None:
    started = time.monotonic()
    response = offline_client.post(
        "/v1/images", content=jpeg_bytes(), headers={"Content-Type": "image/jpeg"}
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["code"] == "object_storage_unavailable"
    assert response.headers["Retry-After"]
    assert elapsed < 1.0


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_malformed_id_is_422(offline_client: TestClient, version: str) -> None:
    response = offline_client.get(f"/{version}/images/not-a-uuid")
    assert response.status_code == 422


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_non_v7_id_is_404_without_storage(offline_client: TestClient, version: str) -> None:
    response = offline_client.get(f"/{version}/images/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_v7_id_with_the_largest_timestamp_is_404_not_500(
    offline_client: TestClient, version: str
) -> None:
    # 48 bits of milliseconds reach year 10889, past what a datetime holds.
    latest = uuid.UUID(int=((1 << 48) - 1) << 80 | 7 << 76 | 0b10 << 62)
    assert latest.version == 7
    response = offline_client.get(f"/{version}/images/{latest}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_bad_idempotency_key_is_400_with_its_code(offline_client: TestClient) -> None:
    response = offline_client.post(
        "/v1/images",
        content=jpeg_bytes(),
        headers={"Content-Type": "image/jpeg", "Idempotency-Key": "k" * 256},
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "bad_idempotency_key"


@pytest.mark.parametrize(
    "scope",
    [
        {"scheme": "http", "server": ("127.0.0.1", 8000), "root_path": "", "headers": []},
        {
            "scheme": "https",
            "server": ("10.0.0.5", 443),
            "root_path": "/civicqc",
            "headers": [(b"host", b"api.springfield.example")],
        },
        {
            "scheme": "http",
            "server": ("127.0.0.1", 8080),
            "root_path": "/a/b/",
            "headers": [(b"host", b"localhost:8080")],
        },
    ],
)
def test_the_status_url_is_the_one_starlette_would_build(scope: dict[str, object]) -> None:
    request = Request({"type": "http", "path": "/v1/images", "query_string": b"", **scope})
    image_id = str(new_image_id())
    expected = URLPath(f"/v1/images/{image_id}").make_absolute_url(request.base_url)
    assert image_status_url(request, Settings(), image_id) == str(expected)
    behind = Settings(public_base_url="https://civic.example/qc/")
    assert image_status_url(request, behind, image_id) == (
        f"https://civic.example/qc/v1/images/{image_id}"
    )


def test_the_upload_documents_its_key_header_and_security(offline_client: TestClient) -> None:
    operation = offline_client.get("/openapi.json").json()["paths"]["/v1/images"]["post"]
    (parameter,) = operation["parameters"]
    assert (parameter["in"], parameter["name"], parameter["required"]) == (
        "header",
        "idempotency-key",
        False,
    )
    assert operation["security"] == [{"APIKeyHeader": []}, {"HTTPBearer": []}]


def test_openapi_documents_both_upload_shapes(offline_client: TestClient) -> None:
    spec = offline_client.get("/openapi.json").json()
    content = spec["paths"]["/v1/images"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "image/*"} <= content.keys()
    assert offline_client.get("/docs").status_code == 200


# ---------------------------------------------------------------------- integration


def _submitted_events(live: LiveApi, expect: int, timeout_s: float = 5.0) -> list[ImageSubmitted]:
    messages = read_all(
        live.settings.kafka_bootstrap_servers,
        live.settings.topic_submitted,
        expect=expect,
        timeout_s=timeout_s,
    )
    events = [ImageSubmitted.model_validate_json(value) for _key, value in messages]
    for (key, _value), event in zip(messages, events, strict=True):
        assert key == event.image_id.encode()
    return events


@pytest.mark.integration
def test_multipart_upload_is_stored_and_announced(live_api: LiveApi) -> None:
    image = jpeg_bytes(seed=1)
    response = live_api.client.post(
        "/v1/images",
        files={"image": ("photo.jpg", image, "image/jpeg")},
        data={
            "tenant": "springfield",
            "category": "pothole",
            "latitude": "48.1",
            "longitude": "11.5",
        },
    )
    assert response.status_code == 202, response.text
    body = response.json()
    image_id = uuid.UUID(body["id"])
    assert image_id.version == 7
    assert body["status_url"].endswith(f"/v1/images/{image_id}")
    assert response.headers["Location"] == body["status_url"]
    assert body["sha256"] == hashlib.sha256(image).hexdigest()

    (key,) = live_api.keys(Folder.PHOTOS.prefix)
    issued = issued_at(image_id)
    assert issued is not None and abs(issued.timestamp() - time.time()) < 60
    assert key == incoming_key(image_id, "jpg")
    assert dict(live_api.s3.get_object_tags(live_api.bucket, key) or {}) == {VERDICT_TAG: PENDING}
    stored = live_api.s3.get_object(live_api.bucket, key)
    try:
        assert stored.read() == image
        assert stored.headers["Content-Type"] == "image/jpeg"
        # The digest the consumer checks events against, kept with the bytes it hashes.
        assert stored.headers[f"x-amz-meta-{DIGEST_METADATA}"] == body["sha256"]
    finally:
        stored.close()
        stored.release_conn()

    (event,) = _submitted_events(live_api, expect=1)
    assert event.image_id == str(image_id)
    assert event.object.key == key
    assert event.object.bucket == live_api.bucket
    assert event.object.size_bytes == len(image)
    assert event.object.sha256 == body["sha256"]
    assert event.metadata.tenant == "springfield"
    assert event.metadata.category == "pothole"
    assert event.metadata.location is not None and event.metadata.location.latitude == 48.1

    assert (
        live_api.registry.get_sample_value("civicqc_images_submitted_total", {"tenant": "other"})
        == 1.0
    )
    assert (
        live_api.registry.get_sample_value(
            "civicqc_api_requests_total", {"route": "/v1/images", "method": "POST", "status": "202"}
        )
        == 1.0
    )


@pytest.mark.integration
def test_raw_upload_with_header_metadata_spanning_parts(live_api: LiveApi) -> None:
    """A body larger than one S3 part goes multipart and still arrives byte for byte."""
    part = live_api.settings.upload_part_size
    image = jpeg_bytes(seed=2) + b"\x00" * (part + 12345)  # trailing bytes: still a JPEG by magic
    response = live_api.client.post(
        "/v1/images",
        content=image,
        headers={"Content-Type": "image/jpeg", "X-Tenant": "default", "X-Reporter-Id": "r-1"},
    )
    assert response.status_code == 202, response.text
    (key,) = live_api.keys(Folder.PHOTOS.prefix)
    stored = live_api.s3.get_object(live_api.bucket, key)
    try:
        assert hashlib.sha256(stored.read()).hexdigest() == hashlib.sha256(image).hexdigest()
    finally:
        stored.close()
        stored.release_conn()
    (event,) = _submitted_events(live_api, expect=1)
    assert event.metadata.reporter_id == "r-1"
    assert event.object.size_bytes == len(image)


@pytest.mark.integration
def test_idempotency_key_returns_the_first_id(live_api: LiveApi) -> None:
    headers = {"Content-Type": "image/jpeg", "Idempotency-Key": "retry-me-42", "X-Tenant": "metro"}
    first = live_api.client.post("/v1/images", content=jpeg_bytes(seed=3), headers=headers)
    again = live_api.client.post("/v1/images", content=jpeg_bytes(seed=3), headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(live_api.keys(Folder.PHOTOS.prefix)) == 1
    assert live_api.keys(Folder.IDEMPOTENCY.prefix) == [
        record_key("metro", "anonymous", "retry-me-42")
    ]
    # Another tenant's identical key is a different upload.
    other = live_api.client.post(
        "/v1/images", content=jpeg_bytes(seed=3), headers={**headers, "X-Tenant": "other-city"}
    )
    assert other.status_code == 202 and other.json()["id"] != first.json()["id"]
    assert len(_submitted_events(live_api, expect=2)) == 2


@pytest.mark.integration
def test_status_goes_from_pending_to_scored(live_api: LiveApi) -> None:
    image = jpeg_bytes(seed=4)
    image_id = live_api.client.post(
        "/v1/images", content=image, headers={"Content-Type": "image/jpeg"}
    ).json()["id"]
    pending = live_api.client.get(f"/v2/images/{image_id}")
    assert pending.status_code == 200
    assert pending.json() == {
        "schema_version": 2,
        "id": image_id,
        "status": "pending",
        "submitted_at": pending.json()["submitted_at"],
    }

    # Do what a consumer does: store the verdict event next to the images.
    (event,) = _submitted_events(live_api, expect=1)
    engine_verdict = score(image, builtin_profile("default"), image_id=image_id)
    verdict = VerdictEvent.of(
        engine_verdict,
        image_id=image_id,
        submitted_at=event.submitted_at,
        scored_at=event.submitted_at,
        metadata=event.metadata,
        object=event.object,
    )
    data = verdict.model_dump_json().encode()
    live_api.s3.put_object(live_api.bucket, verdict_key(image_id), io.BytesIO(data), len(data))
    scored = live_api.client.get(f"/v2/images/{image_id}").json()
    assert (scored["schema_version"], scored["id"], scored["status"]) == (2, image_id, "scored")
    assert (scored["outcome"], scored["score"]) == (verdict.outcome.value, verdict.score)
    assert scored["rules"] == {"name": "default", "version": verdict.rules.version}
    del scored["id"], scored["status"]
    assert VerdictEvent.model_validate(scored) == verdict

    # A verdict stored by a version 1 consumer (engine verdict nested) reads the same.
    kept = {"image_id", "submitted_at", "scored_at", "metadata", "object", "redacted"}
    version_1 = {
        **verdict.model_dump(mode="json", include=kept),
        "schema_version": 1,
        "verdict": engine_verdict.model_dump(mode="json"),
    }
    data = json.dumps(version_1).encode()
    live_api.s3.put_object(live_api.bucket, verdict_key(image_id), io.BytesIO(data), len(data))
    upgraded = live_api.client.get(f"/v2/images/{image_id}").json()
    assert upgraded["schema_version"] == 2
    del upgraded["id"], upgraded["status"]
    assert VerdictEvent.model_validate(upgraded) == verdict

    assert live_api.client.get(f"/v2/images/{new_image_id()}").status_code == 404


@pytest.mark.integration
def test_object_storage_down_is_503_within_a_second_and_publishes_nothing(
    live_api: LiveApi, object_store_control
) -> None:
    object_store_control.stop()
    try:
        started = time.monotonic()
        response = live_api.client.post(
            "/v1/images", content=jpeg_bytes(seed=5), headers={"Content-Type": "image/jpeg"}
        )
        elapsed = time.monotonic() - started
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "object_storage_unavailable"
        assert elapsed < 1.0
        started = time.monotonic()
        ready = live_api.client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["kafka"] == "ok"
        assert time.monotonic() - started < 1.5
    finally:
        object_store_control.start()
    assert _submitted_events(live_api, expect=1, timeout_s=2.0) == []
    _eventually_accepted(live_api, seed=6)


@pytest.mark.integration
def test_kafka_down_is_503_and_the_object_is_removed(live_api: LiveApi, kafka_control) -> None:
    kafka_control.stop()
    try:
        started = time.monotonic()
        response = live_api.client.post(
            "/v1/images",
            content=jpeg_bytes(seed=7),
            headers={"Content-Type": "image/jpeg", "Idempotency-Key": "k-down"},
        )
        elapsed = time.monotonic() - started
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "kafka_unavailable"
        assert elapsed < 2.5
        assert live_api.keys(Folder.PHOTOS.prefix) == []
        assert live_api.keys(Folder.IDEMPOTENCY.prefix) == []
        assert live_api.client.get("/readyz").status_code == 503
    finally:
        kafka_control.start()
    accepted = _eventually_accepted(live_api, seed=8)
    (event,) = _submitted_events(live_api, expect=1, timeout_s=10.0)
    assert event.image_id == accepted
    failures = live_api.registry.get_sample_value(
        "civicqc_api_publish_failures_total", {"stage": "kafka"}
    )
    assert failures is not None and failures >= 1.0


def _eventually_accepted(live: LiveApi, seed: int, timeout_s: float = 60.0) -> str:
    """The API recovers on its own: a new upload is accepted once the service is back."""
    deadline = time.monotonic() + timeout_s
    while True:
        response = live.client.post(
            "/v1/images", content=jpeg_bytes(seed=seed), headers={"Content-Type": "image/jpeg"}
        )
        if response.status_code == 202:
            image_id: str = response.json()["id"]
            return image_id
        assert response.status_code == 503, response.text
        if time.monotonic() > deadline:
            raise TimeoutError(f"still {response.json()} after {timeout_s} s")
        time.sleep(0.5)
