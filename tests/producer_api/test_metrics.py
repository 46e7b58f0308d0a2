"""The API's metrics as Prometheus reads them, whichever way a value was recorded."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from producer_api.metrics import ApiMetrics


def test_requests_count_and_time_per_route_method_and_status() -> None:
    registry = CollectorRegistry()
    metrics = ApiMetrics(registry)
    metrics.record_request("/v1/images", "POST", 202, 0.25)
    metrics.record_request("/v1/images", "POST", 202, 0.5)
    metrics.record_request("/v1/images", "POST", 503, 1.0)
    answered = "civicqc_api_requests_total"
    labels = {"route": "/v1/images", "method": "POST"}
    assert registry.get_sample_value(answered, {**labels, "status": "202"}) == 2.0
    assert registry.get_sample_value(answered, {**labels, "status": "503"}) == 1.0
    duration = "civicqc_api_request_duration_seconds"
    assert registry.get_sample_value(f"{duration}_count", labels) == 3.0
    assert registry.get_sample_value(f"{duration}_sum", labels) == 1.75
    assert registry.get_sample_value(f"{duration}_bucket", {**labels, "le": "0.25"}) == 1.0


def test_submissions_count_by_known_tenant_or_other() -> None:
    registry = CollectorRegistry()
    metrics = ApiMetrics(registry, known_tenants={"default", "springfield"})
    for tenant in ("springfield", "springfield", "shelbyville", "ogdenville"):
        metrics.record_submission(tenant, 2_000_000)
    submitted = "civicqc_images_submitted_total"
    assert registry.get_sample_value(submitted, {"tenant": "springfield"}) == 2.0
    assert registry.get_sample_value(submitted, {"tenant": "other"}) == 2.0
    assert registry.get_sample_value("civicqc_api_upload_size_bytes_count") == 4.0
