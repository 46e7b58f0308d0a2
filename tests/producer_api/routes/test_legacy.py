"""``/api/*``: the reference system's endpoints answer in its envelope, on the real app.

The offline app (no reachable Kafka or S3) covers shapes and errors; the stream tests
run the API and one consumer as processes on the session's real Kafka and S3.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from civicqc.stack.context import free_port
from tests.builders import images
from tests.builders.stream import ApiProcess, ConsumerProcess, Stream
from tests.builders.stream_fixtures import start_consumer, stream
from tests.producer_api.conftest import jpeg_bytes

__all__ = ["start_consumer", "stream"]

ENVELOPE = {"success", "message", "data", "error"}
LEGACY_ROUTES = [
    ("get", "/api/health"),
    ("post", "/api/validate"),
    ("get", "/api/summary"),
    ("get", "/api/validation-rules"),
    ("get", "/api/test-api"),
    ("post", "/api/upload"),
]


def _envelope(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert set(body) == ENVELOPE
    assert isinstance(body["success"], bool)
    assert isinstance(body["message"], str) and body["message"]
    if body["success"]:
        assert body["error"] is None
    else:
        assert set(body["error"]) == {"code", "message", "details"}
    return body


def _photo_form(data: bytes) -> dict[str, tuple[str, bytes, str]]:
    return {"image": ("photo.jpg", data, "image/jpeg")}


def test_health_is_the_reference_envelope(offline_client: TestClient) -> None:
    response = offline_client.get("/api/health")
    assert response.status_code == 200
    body = _envelope(response)
    assert body["success"] is True
    assert body["data"]["status"] == "healthy"
    assert {"service", "api_version", "validation_rules"} <= set(body["data"])


@pytest.mark.parametrize(("method", "path"), LEGACY_ROUTES)
def test_every_legacy_route_is_deprecated_in_openapi(
    offline_client: TestClient, method: str, path: str
) -> None:
    operation = offline_client.get("/openapi.json").json()["paths"][path][method]
    assert operation["deprecated"] is True
    assert operation["tags"] == ["legacy"]


def test_validation_rules_are_keyed_by_check(offline_client: TestClient) -> None:
    body = _envelope(offline_client.get("/api/validation-rules"))
    rules = body["data"]
    assert {"blur", "resolution", "brightness", "exposure", "metadata"} <= set(rules)
    assert rules["blur"]["threshold"] > 0
    assert rules["resolution"]["min_width"] >= 1
    assert all("weight" in rule for rule in rules.values())


def test_test_api_lists_the_endpoints(offline_client: TestClient) -> None:
    body = _envelope(offline_client.get("/api/test-api"))
    endpoints = body["data"]["endpoints"]
    for method, path in LEGACY_ROUTES:
        assert f"{method.upper()} {path}" in endpoints
    assert body["data"]["features"]


def test_summary_before_the_topic_was_read_is_a_503_envelope(offline_client: TestClient) -> None:
    response = offline_client.get("/api/summary")
    assert response.status_code == 503
    body = _envelope(response)
    assert body["success"] is False and body["data"] is None
    assert response.headers["Retry-After"] == "2"


@pytest.mark.parametrize(
    ("files", "status", "code"),
    [
        pytest.param({"tenant": (None, b"default")}, 422, "MISSING_IMAGE", id="no-image"),
        pytest.param(_photo_form(b"not an image at all"), 415, "INVALID_IMAGE", id="not-image"),
        pytest.param(_photo_form(b""), 400, "MISSING_IMAGE", id="empty"),
        pytest.param(_photo_form(b"\xff\xd8\xff" + b"x" * 70_000), 413, "FILE_TOO_LARGE", id="big"),
    ],
)
def test_bad_uploads_get_the_error_envelope(
    offline_client: TestClient, files: dict[str, Any], status: int, code: str
) -> None:
    response = offline_client.post("/api/validate", files=files)
    assert response.status_code == status
    body = _envelope(response)
    assert body["success"] is False and body["data"] is None
    assert body["error"]["code"] == code


def test_validate_with_storage_down_is_a_503_envelope(offline_client: TestClient) -> None:
    response = offline_client.post("/api/validate", files=_photo_form(jpeg_bytes()))
    assert response.status_code == 503
    body = _envelope(response)
    assert body["error"]["code"] == "OBJECT_STORAGE_UNAVAILABLE"
    assert response.headers["Retry-After"] == "1"


def test_upload_is_a_deprecated_alias(offline_client: TestClient) -> None:
    response = offline_client.post("/api/upload", files=_photo_form(b"not an image"))
    assert response.status_code == 415
    assert _envelope(response)["error"]["code"] == "INVALID_IMAGE"
    assert response.headers["Deprecation"].startswith("@")
    assert 'rel="successor-version"' in response.headers["Link"]
    assert "/api/validate" in response.headers["Link"]


def test_every_legacy_answer_carries_deprecation(offline_client: TestClient) -> None:
    assert offline_client.get("/api/health").headers["Deprecation"].startswith("@")
    assert "Deprecation" not in offline_client.get("/healthz").headers


# ------------------------------------------------------------------- on the stream

GOOD = images.encode(images.sharp_photo(1280, 960), exif=images.exif_bytes(gps=(52.5, 13.4)))
BLURRED = images.encode(images.gaussian_blurred(images.sharp_photo(1280, 960), 6.0))

StartApi = Callable[..., ApiProcess]


@pytest.fixture
def start_api(stream: Stream, tmp_path: Path) -> Iterator[StartApi]:
    """``start_api(**env)``: the API as a process on this test's stream, stopped after."""
    started: list[ApiProcess] = []

    def start(**env: str) -> ApiProcess:
        process = ApiProcess(stream.env(**env), tmp_path / f"api-{len(started)}.log", free_port())
        started.append(process)
        process.wait_ready(timeout_s=60)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.mark.integration
def test_validate_waits_for_the_verdict(
    start_api: StartApi, start_consumer: Callable[..., ConsumerProcess]
) -> None:
    start_consumer()
    api = start_api(LEGACY_VALIDATE_WAIT_S="30")

    good = api.client.post("/api/validate", files=_photo_form(GOOD))
    assert good.status_code == 200, good.text
    body = _envelope(good)
    summary = body["data"]["summary"]
    assert summary["overall_status"] == "PASS"
    assert summary["verdict"] == "accepted"
    assert summary["issues_found"] == 0
    assert good.headers["Location"] == body["data"]["status_url"]
    blur = body["data"]["checks"]["blur"]
    assert blur["status"] == "PASS"
    assert {"score", "weight", "message", "details"} <= set(blur)

    blurred = api.client.post("/api/upload", files=_photo_form(BLURRED))
    assert blurred.status_code == 200, blurred.text
    data = _envelope(blurred)["data"]
    assert data["summary"]["overall_status"] == "FAIL"
    assert data["checks"]["blur"]["status"] == "FAIL"
    assert data["checks"]["blur"]["recommendation"] in data["recommendations"]
    assert data["summary"]["issues_found"] >= 1

    # The same verdicts reach the legacy summary through the verdict topic.
    deadline = time.monotonic() + 20
    while True:
        response = api.client.get("/api/summary")
        counts = response.json()["data"] if response.status_code == 200 else None
        if counts is not None and counts["total_processed"] >= 2:
            break
        assert time.monotonic() < deadline, response.text
        time.sleep(0.3)
    assert counts["accepted"] == 1 and counts["rejected"] == 1
    assert counts["acceptance_rate"] == 50.0


@pytest.mark.integration
def test_validate_without_a_verdict_in_time_is_202(start_api: StartApi) -> None:
    api = start_api(LEGACY_VALIDATE_WAIT_S="0.3")  # and no consumer: the verdict never comes
    response = api.client.post("/api/validate", files=_photo_form(GOOD))
    assert response.status_code == 202
    data = _envelope(response)["data"]
    assert data["summary"]["overall_status"] == "PENDING"
    assert data["checks"] == {}
    status = api.client.get(data["status_url"])
    assert status.status_code == 200
    assert status.json() | {"submitted_at": None} == {
        "schema_version": 2,
        "id": data["summary"]["image_id"],
        "status": "pending",
        "submitted_at": None,
    }
