"""Every metric the API exports, in one place, following Prometheus conventions.

Metrics live on an :class:`ApiMetrics` object built with a registry, so tests use a
fresh ``CollectorRegistry`` and read values back with ``get_sample_value``. Label
values are bounded: routes are templates (``/v1/images/{image_id}``), not paths,
and tenants outside the configured set are reported as ``other``.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import Literal

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from starlette.routing import Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Where a submission failed; the label set of ``civicqc_api_publish_failures_total``.
FailureStage = Literal["object_store", "idempotency", "kafka", "cleanup"]

#: The ``tenant`` label value for tenants not named in the settings.
OTHER_TENANT = "other"

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_SIZE_BUCKETS = tuple(float(2**power) for power in range(14, 27))  # 16 KiB .. 64 MiB
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ApiMetrics:
    def __init__(
        self,
        registry: CollectorRegistry = REGISTRY,
        known_tenants: Collection[str] = ("default",),
    ) -> None:
        self.registry = registry
        self._known_tenants = frozenset(known_tenants)
        self.requests = Counter(
            "civicqc_api_requests_total",
            "HTTP requests answered, by route template, method and status code.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.request_duration = Histogram(
            "civicqc_api_request_duration_seconds",
            "Time from request start to the end of the response body.",
            ["route", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.upload_size = Histogram(
            "civicqc_api_upload_size_bytes",
            "Size of images stored by POST /v1/images.",
            buckets=_SIZE_BUCKETS,
            registry=registry,
        )
        self.publish_failures = Counter(
            "civicqc_api_publish_failures_total",
            "Submissions that failed after the body was accepted, by the step that failed.",
            ["stage"],
            registry=registry,
        )
        self.images_submitted = Counter(
            "civicqc_images_submitted_total",
            "Images stored and announced on the submitted topic.",
            ["tenant"],
            registry=registry,
        )
        for stage in ("object_store", "idempotency", "kafka", "cleanup"):
            self.publish_failures.labels(stage=stage)
        # Children by label values: ``labels()`` validates and locks on every call, a
        # cost each request paid three times. The label sets are bounded, so are these.
        self._answered: dict[tuple[str, str, str], Counter] = {}
        self._durations: dict[tuple[str, str], Histogram] = {}
        self._submitted: dict[str, Counter] = {}

    def tenant_label(self, tenant: str) -> str:
        return tenant if tenant in self._known_tenants else OTHER_TENANT

    def record_failure(self, stage: FailureStage) -> None:
        self.publish_failures.labels(stage=stage).inc()

    def record_submission(self, tenant: str, size_bytes: int) -> None:
        label = self.tenant_label(tenant)
        submitted = self._submitted.get(label)
        if submitted is None:
            submitted = self._submitted[label] = self.images_submitted.labels(tenant=label)
        submitted.inc()
        self.upload_size.observe(size_bytes)

    def record_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """One answered request; ``route`` a template and ``method`` a known one (bounded)."""
        key = (route, method, str(status))
        answered = self._answered.get(key)
        if answered is None:
            answered = self._answered[key] = self.requests.labels(*key)
        answered.inc()
        duration = self._durations.get(key[:2])
        if duration is None:
            duration = self._durations[key[:2]] = self.request_duration.labels(route, method)
        duration.observe(seconds)


def _route_template(app: ASGIApp, scope: Scope) -> str:
    """The matched route's path template; ``unmatched`` keeps 404 scans out of the labels.

    The router records the route it dispatched to in ``scope["route"]``; mounts (``/static``)
    do not, so the top-level routes are matched as a fallback.
    """
    route = scope.get("route")
    if route is not None and isinstance(getattr(route, "path", None), str):
        template: str = route.path
        return template
    for candidate in getattr(getattr(app, "router", None), "routes", ()):
        if isinstance(candidate, Mount | Route) and candidate.matches(scope)[0] is Match.FULL:
            return candidate.path
    return "unmatched"


class RequestMetricsMiddleware:
    """Pure ASGI middleware, so streaming uploads are not buffered and timing covers the body."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics, routes_of: ASGIApp) -> None:
        self._app = app
        self._metrics = metrics
        self._routes_of = routes_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._app(scope, receive, send_and_watch)
        finally:
            route = _route_template(self._routes_of, scope)
            method = scope["method"] if scope["method"] in _METHODS else "other"
            self._metrics.record_request(route, method, status, time.perf_counter() - started)
