from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

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
    assert body["checks"]["kafka"] != "ok" and body["checks"]["object_storage"] != "ok"


def test_metrics_use_route_templates(
    offline_client: TestClient, registry: CollectorRegistry
) -> None:
    offline_client.get("/v1/images/not-a-uuid")
    offline_client.get("/no/such/path")
    text = offline_client.get("/metrics").text
    assert "civicqc_api_request_duration_seconds_bucket" in text
    labels = {"route": "/v1/images/{image_id}", "method": "GET", "status": "422"}
    assert registry.get_sample_value("civicqc_api_requests_total", labels) == 1.0
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert registry.get_sample_value("civicqc_api_requests_total", unmatched) == 1.0


@pytest.mark.integration
def test_ready_on_the_real_stack(live_api: LiveApi) -> None:
    body = live_api.client.get("/readyz").json()
    assert body == {"status": "ready", "checks": {"kafka": "ok", "object_storage": "ok"}}
