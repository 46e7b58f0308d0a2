"""Builds the ingest API. ``uvicorn producer_api.main:app`` or ``python -m producer_api``.

The app only assembles: routers come from :mod:`producer_api.routes`, and
:func:`lifespan` opens what the routes share (object store client, Kafka producer,
verdict-topic follower) and closes it on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from wsgiref.simple_server import WSGIServer

import uvicorn
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from prometheus_client import REGISTRY, CollectorRegistry, start_http_server

from core.version import ENGINE_VERSION
from producer_api.errors import install_error_handlers
from producer_api.metrics import ApiMetrics, RequestMetricsMiddleware
from producer_api.publisher import Publisher
from producer_api.routes import api_router
from producer_api.routes.pages import STATIC_DIR
from producer_api.security import install_security, redact_access_log
from producer_api.settings import Settings
from producer_api.storage import open_store
from producer_api.submissions import Submitter
from producer_api.tally import VerdictFollower, VerdictTally
from runtime.catalogues import Catalogues
from runtime.logs import configure_logging
from runtime.rulebook import load_rulebook

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    if app.state.json_logs:
        configure_logging(settings.log_level)
    redact_access_log()
    replica = settings.replica_id or secrets.token_hex(4)
    store = open_store(settings)
    kafka = settings.kafka()
    publisher = Publisher(
        kafka,
        settings.topic_submitted,
        client_id=f"civicqc-api-{replica}",
        send_timeout_s=settings.kafka_send_timeout_s,
    )
    follower = VerdictFollower(
        kafka,
        settings.topic_verdicts,
        VerdictTally(),
        client_id=f"civicqc-api-summary-{replica}",
    )
    app.state.store = store
    app.state.publisher = publisher
    app.state.follower = follower
    app.state.submitter = Submitter(
        store,
        publisher,
        app.state.metrics,
        max_concurrent=settings.max_concurrent_uploads,
        max_per_key=settings.max_concurrent_uploads_per_key,
        idle_timeout_s=settings.upload_idle_timeout_s,
        part_bytes=settings.upload_part_size,
    )
    metrics_server = _serve_metrics(app, settings)
    await publisher.start()
    following = asyncio.create_task(follower.run(), name="verdict-follower")
    logger.info("ingest API started", extra={"replica": replica, "engine": ENGINE_VERSION})
    try:
        yield
    finally:
        metrics_server.shutdown()
        metrics_server.server_close()
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
        await publisher.stop()
        store.close(wait=False)
        logger.info("ingest API stopped", extra={"replica": replica})


def _serve_metrics(app: FastAPI, settings: Settings) -> WSGIServer:
    """``/metrics`` on a listener of its own (as the consumers have), never the public port.

    Whoever reaches the public port (through an ingress, a mesh sidecar on loopback,
    under any root path) cannot reach this one; the NetworkPolicy lets only the
    scraper in. ``app.state.metrics_port`` is the port bound (tests use port 0).
    """
    server, _thread = start_http_server(
        settings.metrics_port, addr=settings.metrics_host, registry=app.state.registry
    )
    app.state.metrics_port = server.server_port
    logger.info("metrics served", extra={"host": settings.metrics_host, "port": server.server_port})
    return server


def create_app(
    settings: Settings | None = None,
    registry: CollectorRegistry = REGISTRY,
    *,
    json_logs: bool = True,
) -> FastAPI:
    """A fresh app; tests pass their own settings, a private registry and ``json_logs=False``.

    Logging is configured when the server starts (in the lifespan), not on import, and
    replaces uvicorn's own setup, so every line a replica writes is JSON.
    """
    settings = settings or Settings()
    app = FastAPI(
        title="civicqc ingest API",
        version=ENGINE_VERSION,
        description="Submit civic-issue photos for quality control and read their verdicts.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.json_logs = json_logs
    # Loaded here, not in the lifespan, so a bad profile fails the import, not the first request.
    app.state.rulebook = load_rulebook(settings)
    app.state.catalogues = Catalogues(settings.message_catalogues_dir)
    metrics = ApiMetrics(registry, known_tenants={"default", *settings.tenant_profiles.keys()})
    app.state.metrics = metrics
    app.state.registry = registry
    app.include_router(api_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_error_handlers(app)
    install_security(app, settings)
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics, routes_of=app)
    return app


def main() -> None:
    settings: Settings = app.state.settings
    uvicorn.run(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        proxy_headers=True,
    )


#: What ``uvicorn producer_api.main:app`` serves (the local stack runs it that way).
app = create_app()
