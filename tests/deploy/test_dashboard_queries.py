"""Every dashboard query runs against a real Prometheus (see tests/deploy/dashboard_queries.py).

1. ``test_every_query_runs``: each panel's PromQL, variables substituted, is accepted by the
   session's real Prometheus (tests/fixtures/services.py).
2. ``test_core_panels_have_data_from_the_services_metrics``: the services' real metrics classes
   (producer_api.metrics.ApiMetrics, consumer.metrics.ConsumerMetrics) are exposed on
   127.0.0.1 as the jobs civicqc-api / civicqc-consumer and scraped; every [core] panel must
   return data.
3. ``test_core_panels_have_data_from_the_running_stack``: the same against the API and
   consumers of the running stack: the session fixture ``scraped_pipeline``
   (tests/fixtures/pipeline.py) runs what ``civicqc stack up`` runs on free ports, uploads
   photos for two tenants through the API until accepted, rejected and error verdicts are
   scored, and waits until Prometheus (jobs civicqc-api and civicqc-consumer) has them.
4. ``test_recording_rules_have_data_from_the_running_stack``: that Prometheus loads
   deploy/prometheus/rules, and the recording rules evaluate to data on those live metrics.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from civicqc.stack.prometheus import query
from tests.deploy.dashboard_queries import QueryOutcome, run_dashboard_queries
from tests.deploy.validators import METRICS_CLASSES
from tests.fixtures.pipeline import ScrapedPipeline

pytestmark = pytest.mark.integration

#: Recording rules (deploy/prometheus/rules) the live stack's metrics must feed.
LIVE_RECORDING_RULES = (
    "civicqc:images_submitted:rate5m",
    "civicqc_tenant_verdict:images_scored:rate5m",
    "civicqc:acceptance_ratio:rate5m",
    "civicqc:end_to_end_latency_seconds:p99_5m",
    "civicqc_route:api_request_duration_seconds:p99_5m",
    "civicqc:worker_pool_saturation:ratio",
    "civicqc_job:replicas:count",
    "civicqc_config:acceptance_ratio:min",
)

#: A plausible value per label, for filling the services' metrics.
LABEL_VALUES: dict[str, tuple[str, ...]] = {
    "verdict": ("accepted", "rejected", "error"),
    "tenant": ("springfield", "shelbyville"),
    "check": ("blur", "exposure"),
    "route": ("/v1/images",),
    "method": ("POST",),
    "status": ("202", "503"),
    "stage": ("kafka",),
    "reason": ("decode",),
    "operation": ("fetch",),
    "topic": ("images.submitted",),
    "partition": ("0", "1"),
    "live_outcome": ("accepted", "rejected"),
    "shadow_outcome": ("accepted", "rejected"),
    "agree": ("true", "false"),
}


def _errors(outcomes: list[QueryOutcome]) -> list[str]:
    return [o.describe() for o in outcomes if o.error]


def _empty_core(outcomes: list[QueryOutcome]) -> list[str]:
    return [o.describe() for o in outcomes if o.query.core and not o.error and o.series == 0]


def _poll(check: Callable[[], list[str]], timeout_s: float) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while True:
        missing = check()
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(1)


def test_every_query_runs(prometheus_url: str) -> None:
    outcomes = run_dashboard_queries(prometheus_url)
    assert outcomes
    assert not _errors(outcomes), "\n".join(_errors(outcomes))


def _fill(metrics: object) -> None:
    """Give every metric of a metrics object a sample for every label combination."""
    from prometheus_client.metrics import MetricWrapperBase

    for metric in vars(metrics).values():
        if not isinstance(metric, MetricWrapperBase):
            continue
        names = metric._labelnames
        combos = itertools.product(*(LABEL_VALUES.get(n, ("x",)) for n in names))
        children: list[Any] = [metric.labels(*c) for c in combos] if names else [metric]
        for child in children:
            if hasattr(child, "observe"):
                child.observe(0.3)
            elif hasattr(child, "set"):
                child.set(2)
            else:
                child.inc()


@pytest.fixture
def services_metrics(prometheus_service) -> Iterator[None]:
    """The services' metrics classes, scraped as civicqc-api and civicqc-consumer."""
    import importlib
    import threading

    from prometheus_client import CollectorRegistry, start_http_server

    from civicqc.stack.context import free_port

    if prometheus_service.targets_dir is None:
        pytest.fail("needs the local Prometheus, whose scrape targets can be registered")
    servers = []
    entries = []
    stop = threading.Event()
    registries = []
    for spec, job in zip(METRICS_CLASSES, ("civicqc-api", "civicqc-consumer"), strict=True):
        module, _, name = spec.partition(":")
        registry = CollectorRegistry()
        metrics = getattr(importlib.import_module(module), name)(registry=registry)
        _fill(metrics)
        registries.append(metrics)
        port = free_port()
        server, _thread = start_http_server(port, addr="127.0.0.1", registry=registry)
        servers.append(server)
        entries.append({"targets": [f"127.0.0.1:{port}"], "labels": {"job": job}})

    def keep_counting() -> None:  # counters must move for rate() to be non-zero
        while not stop.wait(1):
            for metrics in registries:
                _fill(metrics)

    ticker = threading.Thread(target=keep_counting, daemon=True)
    ticker.start()
    # own file name: never clobbers a target file another fixture registered for these jobs
    target_file = Path(prometheus_service.targets_dir) / "deploy-dashboard-test.json"
    target_file.parent.mkdir(parents=True, exist_ok=True)
    staging = target_file.with_suffix(".tmp")
    staging.write_text(json.dumps(entries))
    staging.replace(target_file)
    try:
        yield
    finally:
        target_file.unlink(missing_ok=True)
        stop.set()
        for server in servers:
            server.shutdown()


@pytest.mark.slow
def test_core_panels_have_data_from_the_services_metrics(
    prometheus_url: str, services_metrics: None
) -> None:
    missing = _poll(lambda: _empty_core(run_dashboard_queries(prometheus_url)), timeout_s=60)
    assert not missing, "core panels without data:\n" + "\n".join(missing)


@pytest.mark.slow
def test_core_panels_have_data_from_the_running_stack(scraped_pipeline: ScrapedPipeline) -> None:
    url = scraped_pipeline.prometheus_url
    outcomes = run_dashboard_queries(url)
    assert not _errors(outcomes), "\n".join(_errors(outcomes))
    missing = _poll(lambda: _empty_core(run_dashboard_queries(url)), timeout_s=60)
    assert not missing, "core panels without data:\n" + "\n".join(missing)


@pytest.mark.slow
def test_recording_rules_have_data_from_the_running_stack(
    scraped_pipeline: ScrapedPipeline,
) -> None:
    url = scraped_pipeline.prometheus_url

    def without_data() -> list[str]:
        return [rule for rule in LIVE_RECORDING_RULES if not query(url, rule)]

    # The civicqc group runs every 30 s (the thresholds every minute): two rounds at most.
    missing = _poll(without_data, timeout_s=75)
    assert not missing, f"recording rules without data: {missing}"
    replicas = {r["metric"]["job"]: r["value"][1] for r in query(url, "civicqc_job:replicas:count")}
    assert replicas == {"civicqc-api": "1", "civicqc-consumer": "2"}
