"""Process wiring of one consumer replica, in aiokafka's start/try/finally shape.

:func:`run` builds the collaborators (scoring pool, object store, Kafka clients),
joins them (:class:`~consumer.pipeline.EventPipeline` for one event,
:class:`~consumer.loop.ConsumerLoop` for the stream, one
:class:`~consumer.retry.RetryPolicy` for both) and closes them in reverse order.
:func:`main` adds logging, the metrics endpoint and the signals: SIGTERM or SIGINT
stops fetching, drains in-flight work, commits it and exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from prometheus_client import start_http_server

from consumer.commits import CommittedOffsets
from consumer.duplicates import ExactDuplicates
from consumer.lag import LagReporter
from consumer.loop import ConsumerLoop
from consumer.metrics import ConsumerMetrics
from consumer.near import NearDuplicates
from consumer.pipeline import EventPipeline
from consumer.publisher import KafkaPublisher
from consumer.retry import RetryPolicy
from consumer.scoring import ScoringPool
from consumer.settings import ConsumerSettings
from consumer.shadow import ShadowProfiles
from consumer.storage import open_store
from core.similar import SearchRule
from runtime.cpus import usable_cores
from runtime.kafka_connection import KafkaConnection
from runtime.logs import configure_logging
from runtime.object_store import ObjectStore
from runtime.producer_renewal import RenewableProducer
from runtime.rulebook import load_rulebook

logger = logging.getLogger(__name__)


def _pool(settings: ConsumerSettings) -> ScoringPool:
    rulebook = load_rulebook(settings)
    # Only the profiles an event can select, candidates included: each worker loads
    # their detectors.
    selectable = {
        settings.rule_profile,
        *settings.tenant_profiles.values(),
        *settings.shadow_profiles.values(),
    }
    return ScoringPool(
        settings.worker_processes,
        {name: rules for name, rules in rulebook.items() if name in selectable},
        cores=usable_cores(),
        headroom_bytes=settings.worker_memory_headroom_mb * 2**20,
        task_timeout_s=settings.worker_task_timeout_s,
    )


def _near(settings: ConsumerSettings) -> NearDuplicates:
    rule = SearchRule(
        max_distance=settings.near_duplicate_max_distance,
        window_s=settings.near_duplicate_window_days * 86_400.0,
        max_metres=settings.near_duplicate_max_metres,
    )
    return NearDuplicates(rule, settings.topic_fingerprints)


#: How long a new producer may take to start when one that lost its sequence is replaced;
#: past it the publish is retried like any Kafka outage (consumer.retry).
_PRODUCER_START_TIMEOUT_S = 10.0


def _kafka_clients(
    settings: ConsumerSettings, kafka: KafkaConnection
) -> tuple[AIOKafkaConsumer, RenewableProducer]:
    consumer = AIOKafkaConsumer(
        **kafka.options(),
        group_id=settings.consumer_group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_session_timeout_ms // 3,
        max_poll_records=settings.max_in_flight,
    )

    def producer() -> AIOKafkaProducer:
        return AIOKafkaProducer(
            **kafka.options(),
            acks="all",
            enable_idempotence=True,
            # An event's verdict and fingerprint are appended together: with any linger,
            # each topic's batch waits on its own clock and they leave as two requests.
            linger_ms=0,
        )

    return consumer, RenewableProducer(producer, start_timeout_s=_PRODUCER_START_TIMEOUT_S)


#: What the fingerprint reader asks the broker to gather before it answers (about 300
#: records): a replica reads every photo's record, so a read per record cost the broker a
#: request per photo and replica; batched, a request per NEAR_DUPLICATE_FETCH_WAIT_MS.
_FINGERPRINT_FETCH_MIN_BYTES = 64 * 1024


def _fingerprint_reader(settings: ConsumerSettings, kafka: KafkaConnection) -> AIOKafkaConsumer:
    """The group-less reader of the whole fingerprint topic (:meth:`NearDuplicates.follow`)."""
    return AIOKafkaConsumer(
        **kafka.options(),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_min_bytes=_FINGERPRINT_FETCH_MIN_BYTES,
        fetch_max_wait_ms=settings.near_duplicate_fetch_wait_ms,
    )


def _loop(
    settings: ConsumerSettings,
    metrics: ConsumerMetrics,
    consumer: AIOKafkaConsumer,
    commits: CommittedOffsets,
    producer: RenewableProducer,
    store: ObjectStore,
    pool: ScoringPool,
    near: NearDuplicates,
) -> ConsumerLoop:
    policy = RetryPolicy(
        backoff_s=settings.retry_backoff,
        backoff_max_s=settings.retry_backoff_max,
        max_retries=settings.max_retries,
        retries=metrics.retries,
    )
    rulebook = load_rulebook(settings)
    duplicates = ExactDuplicates(rulebook) if settings.dedupe_exact else None
    shadow = (
        ShadowProfiles(
            settings.shadow_profiles, settings.shadow_sample_rate, settings.topic_verdicts_shadow
        )
        if settings.shadow_profiles
        else None
    )
    publisher = KafkaPublisher(producer)
    pipeline = EventPipeline(
        settings, metrics, store, pool, publisher, policy, rulebook, duplicates, near, shadow
    )
    loop = ConsumerLoop(
        consumer,
        commits,
        pipeline.handle,
        policy,
        LagReporter(consumer, commits, metrics.consumer_lag, settings.lag_interval_s),
        max_in_flight=settings.max_in_flight,
        commit_interval_s=settings.commit_interval_s,
        drain_timeout_s=settings.shutdown_timeout_s,
    )
    metrics.inflight_images.set_function(lambda: loop.in_flight)
    metrics.near_duplicate_fingerprints.set_function(lambda: near.fingerprints)
    metrics.pool_workers.set(pool.workers)
    metrics.pool_busy_workers.set_function(lambda: pool.busy)
    metrics.pool_peak_rss.set_function(lambda: pool.peak_rss_bytes)
    return loop


async def run(settings: ConsumerSettings, metrics: ConsumerMetrics, stop: asyncio.Event) -> None:
    """Build the clients, run the loop until ``stop``, and close everything in reverse."""
    kafka = settings.kafka()  # first: an unreadable TLS file stops the start, before any worker
    pool = _pool(settings)
    store = open_store(settings)
    consumer, producer = _kafka_clients(settings, kafka)
    near = _near(settings)
    reader = _fingerprint_reader(settings, kafka)
    admin = AIOKafkaAdminClient(**kafka.options())
    commits = CommittedOffsets(admin, settings.consumer_group)
    loop = _loop(settings, metrics, consumer, commits, producer, store, pool, near)
    following: asyncio.Task[None] | None = None
    try:
        await pool.start()
        await producer.start()
        await admin.start()
        await reader.start()
        following = asyncio.create_task(near.follow(reader))
        consumer.subscribe([settings.topic_submitted], listener=loop.rebalance_listener())
        await consumer.start()
        logger.info(
            "consumer started",
            extra={"group": settings.consumer_group, "workers": settings.worker_processes},
        )
        try:
            await loop.run(stop)
        finally:
            await consumer.stop()
    finally:
        if following is not None:
            following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await following
        await reader.stop()
        await admin.close()
        await producer.stop()
        pool.shutdown()
        store.close()
    logger.info("consumer stopped")


async def _serve(settings: ConsumerSettings, metrics: ConsumerMetrics) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await run(settings, metrics, stop)


def main() -> int:
    settings = ConsumerSettings()
    configure_logging(settings.log_level)
    metrics = ConsumerMetrics(
        known_tenants={"default", *settings.tenant_profiles, *settings.shadow_profiles}
    )
    server, _thread = start_http_server(settings.metrics_port, addr=settings.metrics_host)
    logger.info("metrics served", extra={"port": server.server_port})
    try:
        asyncio.run(_serve(settings, metrics))
    except KafkaError as exc:
        # One JSON line, its traceback a field, rather than a bare traceback; aiokafka's line
        # before it says why (a refused login, a certificate that does not verify).
        logger.error("consumer stopped: Kafka is unreachable or refused it: %r", exc, exc_info=exc)
        return 1
    finally:
        server.shutdown()
    return 0
