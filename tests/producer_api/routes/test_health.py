from __future__ import annotations

import time

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from producer_api.main import create_app
from tests.producer_api.conftest import LiveApi


def test_liveness_needs_no_dependency(offline_client: TestClient) -> None:
    assert offline_client.get("/healthz").json() == {"status": "ok"}


def test_readiness_is_503_quickly_when_dependencies_are_down(offline_client: TestClient) -> None:
    started = time.monotonic()
    response = offline_client.get("/readyz")
    assert time.monotonic() - started < 1.0
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"kafka": "unreachable", "object_storage": "unreachable"}


def test_metrics_use_route_templates(
    offline_client: TestClient, registry: CollectorRegistry
) -> None:
    offline_client.get("/v1/images/not-a-uuid")
    offline_client.get("/no/such/path")
    port = offline_client.app.state.metrics_port  # type: ignore[attr-defined]
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    assert "civicqc_api_request_duration_seconds_bucket" in text
    labels = {"route": "/v1/images/{image_id}", "method": "GET", "status": "422"}
    assert registry.get_sample_value("civicqc_api_requests_total", labels) == 1.0
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert registry.get_sample_value("civicqc_api_requests_total", unmatched) == 1.0


@pytest.mark.integration
def test_ready_on_the_real_stack(live_api: LiveApi) -> None:
    body = live_api.client.get("/readyz").json()
    assert body == {"status": "ready", "checks": {"kafka": "ok", "object_storage": "ok"}}


@pytest.mark.integration
def test_readiness_names_the_dependency_but_not_its_error(live_api: LiveApi) -> None:
    # A bucket that does not exist: the store's error text would name it.
    settings = live_api.settings.model_copy(update={"s3_bucket": "civicqc-missing-bucket-x7"})
    with TestClient(create_app(settings, CollectorRegistry(), json_logs=False)) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["object_storage"] == "unreachable"
    assert "civicqc-missing-bucket-x7" not in answer.text
    assert settings.s3_endpoint not in answer.text
