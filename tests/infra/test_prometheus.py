"""Real Prometheus scrapes a real exporter (polled, never a fixed sleep)."""

from __future__ import annotations

import time
import uuid

import pytest
from prometheus_client import CollectorRegistry, Counter, start_http_server

from civicqc.stack.context import free_port
from civicqc.stack.prometheus import query, register_target, unregister_target

pytestmark = pytest.mark.integration


def _poll(check, timeout_s: float = 60.0, interval_s: float = 0.25):
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not met before the deadline"
        time.sleep(interval_s)


def test_scrapes_a_registered_target(prometheus_service) -> None:
    if prometheus_service.targets_dir is None:
        pytest.skip("external Prometheus: targets cannot be registered from here")
    registry = CollectorRegistry()
    submitted = Counter("infra_test_images", "test counter", registry=registry)
    submitted.inc(7)
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    job = f"infra-{uuid.uuid4().hex[:8]}"
    register_target(prometheus_service.targets_dir, job, [f"127.0.0.1:{port}"])
    try:
        up = _poll(lambda: query(prometheus_service.url, f'up{{job="{job}"}}'))
        assert up[0]["value"][1] == "1"
        assert up[0]["metric"]["instance"] == f"127.0.0.1:{port}"
        scraped = _poll(
            lambda: query(prometheus_service.url, f'infra_test_images_total{{job="{job}"}}')
        )
        assert float(scraped[0]["value"][1]) == 7.0
    finally:
        unregister_target(prometheus_service.targets_dir, job)
        server.shutdown()
        thread.join(timeout=5)


def test_scrapes_itself(prometheus_url: str) -> None:
    up = _poll(lambda: query(prometheus_url, 'up{job="prometheus"}'))
    assert up[0]["value"][1] == "1"
