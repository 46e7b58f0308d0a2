"""``/api/*`` contract: per endpoint and outcome, every key the reference system returns.

The shapes are in :mod:`tests.producer_api.legacy.reference`. The offline app (no
reachable Kafka or S3) covers the bad uploads and the read-only endpoints; the stream
tests run the API and one consumer as processes on the session's real Kafka and S3
and check the scored outcomes: pass, fail, and a file that is not a readable image.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from civicqc.stack.context import free_port
from producer_api.main import create_app
from producer_api.settings import Settings
from tests.builders import images
from tests.builders.stream import ApiProcess, Stream
from tests.builders.stream_fixtures import running_site, stream
from tests.fixtures.services import S3Service
from tests.producer_api.conftest import Keys, jpeg_bytes, secured
from tests.producer_api.legacy import reference

__all__ = ["stream"]

LEGACY_ROUTES = [
    ("get", "/api/health"),
    ("post", "/api/validate"),
    ("get", "/api/summary"),
    ("get", "/api/validation-rules"),
    ("get", "/api/test-api"),
    ("post", "/api/upload"),
]
UPLOADS = ["/api/validate", "/api/upload"]
GOOD = images.encode(images.sharp_photo(1280, 960), exif=images.exif_bytes(gps=(52.5, 13.4)))
BLURRED = images.encode(images.gaussian_blurred(images.sharp_photo(1280, 960), 6.0))
#: A JPEG start that no decoder can read: the reference answers 200 with a "fail".
UNREADABLE = b"\xff\xd8\xff\xe0" + b"\x00" * 4000


def _conforms(response: httpx.Response, shape: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert reference.problems(body, shape) == [], response.text
    return body


def _photo_form(data: bytes) -> dict[str, tuple[str, bytes, str]]:
    return {"image": ("photo.jpg", data, "image/jpeg")}


# ------------------------------------------------------------------------- offline app


def test_health_answers_without_a_key_and_tells_nothing_more(
    offline_settings: Settings, registry: CollectorRegistry
) -> None:
    settings = offline_settings.model_copy(update={"auth_enabled": True})
    with TestClient(create_app(settings, registry, json_logs=False)) as client:
        response = client.get("/api/health")
        assert response.status_code == 200
        body = _conforms(response, reference.HEALTH)
        assert body["data"] == {
            "status": "healthy",
            "service": "civicqc",
            "api_version": "2.0",
            "validation_rules": "updated",
        }
        # Every other legacy endpoint still needs a key.
        assert client.get("/api/test-api").status_code == 401
        assert client.post("/api/validate", files=_photo_form(GOOD)).status_code == 401


@pytest.mark.parametrize(("method", "path"), LEGACY_ROUTES)
def test_every_legacy_route_is_deprecated_in_openapi(
    offline_client: TestClient, method: str, path: str
) -> None:
    operation = offline_client.get("/openapi.json").json()["paths"][path][method]
    assert operation["deprecated"] is True
    assert operation["tags"] == ["legacy"]


def test_validation_rules(offline_client: TestClient) -> None:
    body = _conforms(offline_client.get("/api/validation-rules"), reference.VALIDATION_RULES)
    assert body["data"]["blur"]["min_score"] == body["data"]["blur"]["threshold"]
    assert all("weight" in rule for rule in body["data"].values())


def test_test_api(offline_client: TestClient) -> None:
    body = _conforms(offline_client.get("/api/test-api"), reference.TEST_API)
    for method, path in LEGACY_ROUTES:
        assert f"{method.upper()} {path}" in body["data"]["endpoints"]


def test_summary_before_the_topic_was_read_is_a_503_envelope(offline_client: TestClient) -> None:
    response = offline_client.get("/api/summary")
    assert response.status_code == 503
    _conforms(response, reference.error_envelope(503, response.json()["message"]))
    assert response.headers["Retry-After"] == "2"


@pytest.mark.parametrize("path", UPLOADS)
@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param({"tenant": (None, b"default")}, reference.NO_IMAGE, id="no-image"),
        pytest.param(_photo_form(b""), reference.NO_FILE_SELECTED, id="empty"),
        pytest.param(_photo_form(b"\xff\xd8\xff" + b"x" * 70_000), reference.TOO_LARGE, id="big"),
    ],
)
def test_bad_uploads_get_the_reference_error(
    offline_client: TestClient, path: str, files: dict[str, Any], expected: tuple[int, str]
) -> None:
    response = offline_client.post(path, files=files)
    assert response.status_code == expected[0]
    _conforms(response, reference.error_envelope(*expected))


@pytest.mark.parametrize("path", UPLOADS)
def test_a_file_that_is_not_an_image_is_not_allowed(offline_client: TestClient, path: str) -> None:
    response = offline_client.post(path, files=_photo_form(b"not an image at all"))
    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith(reference.NOT_ALLOWED_PREFIX) and "jpg" in message
    body = _conforms(response, reference.error_envelope(400, message))
    assert (body["error"]["error_code"], body["error"]["details"]) == (
        "INVALID_IMAGE",
        "not_an_image",
    )


@pytest.mark.parametrize("path", UPLOADS)
def test_an_upload_for_another_tenant_is_a_documented_403_envelope(
    offline_settings: Settings, keys: Keys, path: str
) -> None:
    """Refused before anything is stored, in the envelope, and listed in the OpenAPI."""
    app = create_app(secured(offline_settings, keys), CollectorRegistry(), json_logs=False)
    with TestClient(app) as client:
        key = keys.add("springfield")
        headers = {"X-API-Key": key, "X-Tenant": "shelbyville"}
        response = client.post(path, files=_photo_form(jpeg_bytes()), headers=headers)
        assert response.status_code == 403
        body = _conforms(response, reference.error_envelope(403, response.json()["message"]))
        assert body["error"]["details"] == "tenant_forbidden"
        documented = client.get("/openapi.json").json()["paths"][path]["post"]["responses"]
        assert "403" in documented


def test_validate_with_storage_down_is_a_503_envelope(offline_client: TestClient) -> None:
    response = offline_client.post("/api/validate", files=_photo_form(jpeg_bytes()))
    assert response.status_code == 503
    body = _conforms(response, reference.error_envelope(503, response.json()["message"]))
    assert body["error"]["error_code"] == "OBJECT_STORAGE_UNAVAILABLE"
    assert response.headers["Retry-After"] == "1"


def test_upload_names_its_successor(offline_client: TestClient) -> None:
    response = offline_client.post("/api/upload", files=_photo_form(b"not an image"))
    assert response.headers["Deprecation"].startswith("@")
    assert 'rel="successor-version"' in response.headers["Link"]
    assert "/api/validate" in response.headers["Link"]
    assert '</docs>; rel="deprecation"' in response.headers["Link"]


def test_every_legacy_answer_carries_deprecation(offline_client: TestClient) -> None:
    assert offline_client.get("/api/health").headers["Deprecation"].startswith("@")
    assert "Deprecation" not in offline_client.get("/healthz").headers


# ---------------------------------------------------------------------------- on the stream


@pytest.fixture(scope="module")
def site(
    kafka_bootstrap_servers: str,
    s3_service: S3Service,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ApiProcess]:
    logs = tmp_path_factory.mktemp("legacy-stack")
    with running_site(
        "legacy",
        kafka_bootstrap_servers,
        s3_service,
        logs,
        LEGACY_VALIDATE_WAIT_S="30",
    ) as api:
        yield api


SCORED = [
    pytest.param(GOOD, reference.validation("pass"), "excellent", id="pass"),
    pytest.param(BLURRED, reference.validation("fail"), "rejected", id="fail"),
    pytest.param(UNREADABLE, reference.UNREADABLE, "error", id="unreadable"),
]


@pytest.mark.integration
@pytest.mark.parametrize(("photo", "shape", "old_status"), SCORED)
def test_validate(site: ApiProcess, photo: bytes, shape: Any, old_status: str) -> None:
    response = site.client.post("/api/validate", files=_photo_form(photo))
    assert response.status_code == 200
    data = _conforms(response, shape)["data"]
    assert response.headers["Location"] == data["status_url"]
    assert data["summary"]["verdict"] == {"excellent": "accepted"}.get(old_status, old_status)


@pytest.mark.integration
@pytest.mark.parametrize(("photo", "shape", "old_status"), SCORED)
def test_upload(site: ApiProcess, photo: bytes, shape: Any, old_status: str) -> None:
    response = site.client.post("/api/upload", files=_photo_form(photo))
    assert response.status_code == 200
    data = _conforms(response, shape)["data"]
    assert reference.problems(data, reference.OLD_REPORT) == []
    assert data["overall_status"] == old_status


@pytest.mark.integration
def test_validate_answers_in_the_callers_language(site: ApiProcess) -> None:
    response = site.client.post(
        "/api/validate", files=_photo_form(BLURRED), headers={"Accept-Language": "fr-CH, en;q=0.5"}
    )
    assert response.headers["Content-Language"] == "fr"
    data = _conforms(response, reference.validation("fail"))["data"]
    blur = data["checks"]["blur"]
    assert blur["reason"].startswith("La photo est floue") and blur["message"] == blur["reason"]
    assert blur["recommendation"] in data["summary"]["recommendations"]
    assert data["checks"]["brightness"]["reason"] == "La luminosité est bonne."


@pytest.mark.integration
def test_summary(site: ApiProcess) -> None:
    for photo in (GOOD, BLURRED):
        assert site.client.post("/api/validate", files=_photo_form(photo)).status_code == 200
    deadline = time.monotonic() + 20
    while True:  # the verdicts reach the tally through the verdict topic
        response = site.client.get("/api/summary")
        if response.status_code == 200 and response.json()["data"]["total_rejected"] >= 1:
            break
        assert time.monotonic() < deadline, response.text
        time.sleep(0.3)
    counts = _conforms(response, reference.SUMMARY)["data"]
    assert counts["total_images"] == counts["total_processed"] + counts["total_rejected"]
    rate = round(100 * counts["total_processed"] / counts["total_images"], 2)
    assert counts["acceptance_rate"] == rate


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
def test_validate_without_a_verdict_in_time_is_202(start_api: StartApi) -> None:
    api = start_api(LEGACY_VALIDATE_WAIT_S="0.3")  # and no consumer: the verdict never comes
    response = api.client.post("/api/validate", files=_photo_form(GOOD))
    assert response.status_code == 202
    data = response.json()["data"]
    assert data["summary"]["overall_status"] == "pending"
    assert data["checks"] == {name: None for name in reference.CHECKS}
    status = api.client.get(data["status_url"])  # /v1/images/{id}, 0.1.0's shape, as then
    assert status.status_code == 200
    assert status.json() | {"submitted_at": None} == {
        "id": data["summary"]["image_id"],
        "status": "pending",
        "submitted_at": None,
        "verdict": None,
    }
