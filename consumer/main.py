"""One consumer replica: images.submitted in, verdicts out, in aiokafka's start/try/finally shape.

Per event: read the stored verdict (a redelivery reuses it byte for byte) or fetch the
object, score it in the process pool, file a copy under ``accepted/`` or ``rejected/``,
store ``verdicts/{id}.json``, publish the verdict, delete the incoming object. Offsets
are committed only after the verdict is published, and only up to the contiguous
finished prefix of each partition: delivery is at least once, and a duplicate verdict
is byte-identical to the first one (same image id, same payload).

Object-store failures and dead workers are retried with backoff, then the event goes
to the dead-letter topic so its partition keeps moving. Kafka publish failures are
retried until Kafka answers: the dead-letter topic lives on the same cluster, so
dead-lettering there would not help.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.errors import KafkaError, KafkaTimeoutError, RequestTimedOutError
from aiokafka.structs import ConsumerRecord, TopicPartition
from prometheus_client import start_http_server
from pydantic import ValidationError
from pythonjsonlogger.json import JsonFormatter

from civicqc.settings import load_rulebook, profile_for_tenant
from consumer.metrics import ConsumerMetrics
from consumer.offsets import PartitionOffsets
from consumer.scoring import ScoringPool, WorkerCrashedError
from consumer.settings import ConsumerSettings
from consumer.storage import (
    ObjectMissingError,
    ObjectStore,
    StorageUnavailableError,
    filed_key,
    verdict_key,
)
from core.events import DeadLetter, DeadLetterReason, ImageSubmitted, SourceRecord, VerdictEvent
from core.privacy import redact_exif
from core.schema import Verdict

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Failures worth retrying, and the dead-letter reason once retries run out.
_TRANSIENT: dict[type[Exception], DeadLetterReason] = {
    StorageUnavailableError: DeadLetterReason.STORAGE_UNAVAILABLE,
    WorkerCrashedError: DeadLetterReason.WORKER_CRASHED,
}


class _GaveUpError(Exception):
    """Retries of one event ran out, or retrying cannot help; the event is dead-lettered."""

    def __init__(self, reason: DeadLetterReason, attempts: int, cause: Exception) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.reason = reason
        self.attempts = attempts


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Finish and commit what revoked partitions have in flight; start fresh on assignment."""

    def __init__(self, scorer: ScoringConsumer) -> None:
        self._scorer = scorer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._scorer.release(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._scorer.adopt(assigned)


class ScoringConsumer:
    """The loop of one replica and the pipeline of one event."""

    def __init__(
        self,
        settings: ConsumerSettings,
        metrics: ConsumerMetrics,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        store: ObjectStore,
        pool: ScoringPool,
    ) -> None:
        self._settings = settings
        self._metrics = metrics
        self._consumer = consumer
        self._producer = producer
        self._store = store
        self._pool = pool
        self._offsets: dict[TopicPartition, PartitionOffsets] = {}
        self._tasks: dict[asyncio.Task[None], tuple[TopicPartition, PartitionOffsets, int]] = {}
        self._fatal: BaseException | None = None
        self._stopping = False
        self._lag_labels: set[TopicPartition] = set()
        self._last_commit = 0.0
        metrics.inflight_images.set_function(lambda: len(self._tasks))
        metrics.pool_workers.set(pool.workers)
        metrics.pool_busy_workers.set_function(lambda: pool.busy)

    # -- the loop ---------------------------------------------------------------

    async def consume(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set, then finish in-flight work and commit it."""
        lag = asyncio.create_task(self._report_lag_forever())
        try:
            while not stop.is_set() and self._fatal is None:
                free = self._settings.max_in_flight - len(self._tasks)
                if free <= 0:
                    self._consumer.pause(*self._consumer.assignment())
                    await asyncio.wait(
                        self._tasks, timeout=1.0, return_when=asyncio.FIRST_COMPLETED
                    )
                    await self._commit_now_and_then()
                    continue
                if paused := self._consumer.paused():
                    self._consumer.resume(*paused)
                batch = await self._consumer.getmany(timeout_ms=200, max_records=free)
                for tp, records in batch.items():
                    self._start(tp, records)
                await self._commit_now_and_then()
            logger.info("stopping: finishing in-flight work", extra={"inflight": len(self._tasks)})
            self._stopping = True
            await self._finish(self._tasks, self._settings.shutdown_timeout_s)
            await self._commit()
        finally:
            lag.cancel()
        if self._fatal is not None:
            raise self._fatal

    def _start(self, tp: TopicPartition, records: Iterable[ConsumerRecord]) -> None:
        offsets = self._offsets.get(tp)
        if offsets is None:  # revoked while the batch was on its way
            return
        for record in records:
            offsets.take(record.offset)
            task = asyncio.create_task(self._handle(record))
            self._tasks[task] = (tp, offsets, record.offset)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        _tp, offsets, offset = self._tasks.pop(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            # A bug: stop the replica without committing this offset, so it is redone.
            logger.error("event handler failed", exc_info=exc)
            self._fatal = self._fatal or exc
            return
        offsets.finish(offset)

    async def _finish(self, tasks: Iterable[asyncio.Task[None]], within_s: float) -> None:
        pending = list(tasks)
        if not pending:
            return
        _done, late = await asyncio.wait(pending, timeout=within_s)
        for task in late:
            task.cancel()
        if late:
            logger.warning("gave up waiting for in-flight work", extra={"abandoned": len(late)})
            await asyncio.wait(late)

    async def _commit_now_and_then(self) -> None:
        now = time.monotonic()
        if now - self._last_commit >= self._settings.commit_interval_s:
            self._last_commit = now
            await self._commit()

    async def _commit(self, only: Iterable[TopicPartition] | None = None) -> None:
        chosen = (
            self._offsets
            if only is None
            else {tp: self._offsets[tp] for tp in only if tp in self._offsets}
        )
        ready = {tp: (o, n) for tp, o in chosen.items() if (n := o.to_commit()) is not None}
        if not ready:
            return
        try:
            await self._consumer.commit({tp: n for tp, (_o, n) in ready.items()})
        except KafkaError as exc:
            # Any commit failure only means a redelivery later; the next commit retries.
            logger.warning("offset commit failed", extra={"error": repr(exc)})
            return
        for offsets, n in ready.values():
            offsets.committed(n)

    # -- rebalancing ------------------------------------------------------------

    async def release(self, revoked: set[TopicPartition]) -> None:
        """Let revoked partitions' work finish (bounded), commit it, forget the partitions."""
        if not self._stopping:
            await self._finish_only(revoked)
        await self._commit(revoked)
        for tp in revoked:
            self._offsets.pop(tp, None)
        logger.info("partitions revoked", extra={"partitions": _names(revoked)})

    async def _finish_only(self, revoked: set[TopicPartition]) -> None:
        pending = [task for task, (tp, _o, _n) in self._tasks.items() if tp in revoked]
        if pending:
            # Not cancelled after the timeout: the work is idempotent, only its offset is lost.
            await asyncio.wait(pending, timeout=self._settings.shutdown_timeout_s)

    def adopt(self, assigned: set[TopicPartition]) -> None:
        for tp in assigned:
            self._offsets[tp] = PartitionOffsets()
        for tp in self._lag_labels - assigned:
            self._metrics.consumer_lag.remove(tp.topic, str(tp.partition))
        self._lag_labels = set(self._lag_labels & assigned)
        logger.info("partitions assigned", extra={"partitions": _names(assigned)})

    async def _report_lag_forever(self) -> None:
        while True:
            await asyncio.sleep(self._settings.lag_interval_s)
            await self._report_lag()

    async def _report_lag(self) -> None:
        owned = list(self._consumer.assignment())
        if not owned:
            return
        try:
            ends = await self._consumer.end_offsets(owned)
            for tp in owned:
                committed = await self._consumer.committed(tp) or 0
                lag = max(0, ends[tp] - committed)
                self._metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(lag)
                self._lag_labels = self._lag_labels | {tp}
        except KafkaError as exc:
            logger.warning("could not read consumer lag", extra={"error": repr(exc)})

    # -- one event --------------------------------------------------------------

    async def _handle(self, record: ConsumerRecord) -> None:
        try:
            event = ImageSubmitted.model_validate_json(record.value)
        except ValidationError as exc:
            await self._dead_letter(
                record, None, _GaveUpError(DeadLetterReason.INVALID_EVENT, 1, exc)
            )
            return
        try:
            await self._process(event)
        except _GaveUpError as gave_up:
            await self._dead_letter(record, event.image_id, gave_up)

    async def _process(self, event: ImageSubmitted) -> None:
        source, image_id = event.object.key, event.image_id
        stored = await self._retrying(
            "fetch_verdict", lambda: self._store.fetch_if_exists(verdict_key(image_id))
        )
        verdict: Verdict | None = None
        if stored is None:
            try:
                data = await self._retrying("fetch", lambda: self._store.fetch(source))
            except ObjectMissingError as exc:
                raise _GaveUpError(DeadLetterReason.OBJECT_MISSING, 1, exc) from exc
            profile = profile_for_tenant(self._settings, event.metadata.tenant)
            verdict = await self._retrying(
                "score", lambda: self._pool.score(data, profile, image_id)
            )
            target = filed_key(source, verdict.verdict)
            await self._retrying("file", lambda: self._store.copy(source, target))
            body = (
                VerdictEvent(
                    image_id=image_id,
                    submitted_at=event.submitted_at,
                    scored_at=datetime.now(UTC),
                    metadata=event.metadata,
                    object=event.object.model_copy(update={"key": target}),
                    verdict=redact_exif(verdict, self._settings.exif_in_verdicts),
                )
                .model_dump_json()
                .encode()
            )
            await self._retrying(
                "store", lambda: self._store.put(verdict_key(image_id), body, "application/json")
            )
        else:
            # A redelivery: the first attempt got as far as storing its verdict.
            body = stored
            target = VerdictEvent.model_validate_json(stored).object.key
            with contextlib.suppress(ObjectMissingError):  # filed and deleted by then
                await self._retrying("file", lambda: self._store.copy(source, target))
        await self._publish(self._settings.topic_verdicts, image_id.encode(), body)
        await self._retrying("delete", lambda: self._store.delete(source))
        if verdict is not None:
            self._record(event, verdict)

    def _record(self, event: ImageSubmitted, verdict: Verdict) -> None:
        m = self._metrics
        m.images_scored.labels(verdict.verdict.value, event.metadata.tenant).inc()
        for name, check in verdict.checks.items():
            if not check.passed:
                m.check_failures.labels(name).inc()
        m.scoring_duration.observe(verdict.timings.total_ms / 1000.0)
        submitted = event.submitted_at
        if submitted.tzinfo is None:
            submitted = submitted.replace(tzinfo=UTC)
        m.end_to_end_latency.observe(max(0.0, (datetime.now(UTC) - submitted).total_seconds()))

    async def _retrying(self, operation: str, step: Callable[[], Awaitable[T]]) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                return await step()
            except tuple(_TRANSIENT) as exc:
                if attempt > self._settings.max_retries:
                    raise _GaveUpError(_TRANSIENT[type(exc)], attempt, exc) from exc
                self._metrics.retries.labels(operation).inc()
                logger.warning(
                    "transient failure, retrying",
                    extra={"operation": operation, "attempt": attempt, "error": repr(exc)},
                )
                await asyncio.sleep(self._backoff(attempt))

    def _backoff(self, attempt: int) -> float:
        s = self._settings
        return float(min(s.retry_backoff_max, s.retry_backoff * 2 ** (attempt - 1)))

    async def _publish(self, topic: str, key: bytes | None, value: bytes) -> None:
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._producer.send_and_wait(topic, value=value, key=key)
                return
            except KafkaError as exc:
                if not (exc.retriable or isinstance(exc, _KAFKA_TIMEOUTS)):
                    raise
                self._metrics.retries.labels("publish").inc()
                logger.warning(
                    "publish failed, retrying",
                    extra={"topic": topic, "attempt": attempt, "error": repr(exc)},
                )
                await asyncio.sleep(self._backoff(attempt))

    async def _dead_letter(
        self, record: ConsumerRecord, image_id: str | None, why: _GaveUpError
    ) -> None:
        letter = DeadLetter(
            image_id=image_id,
            failed_at=datetime.now(UTC),
            reason=why.reason,
            error=str(why),
            attempts=why.attempts,
            source=SourceRecord(
                topic=record.topic, partition=record.partition, offset=record.offset
            ),
            payload=bytes(record.value or b"").decode("utf-8", errors="replace"),
        )
        await self._publish(self._settings.topic_dlq, record.key, letter.model_dump_json().encode())
        self._metrics.dlq_messages.labels(why.reason.value).inc()
        logger.error(
            "event dead-lettered",
            extra={"image_id": image_id, "reason": why.reason.value, "error": str(why)},
        )


def _names(partitions: Iterable[TopicPartition]) -> list[str]:
    return sorted(f"{tp.topic}[{tp.partition}]" for tp in partitions)


#: Not flagged retriable by aiokafka, but a broker that is restarting answers just so.
_KAFKA_TIMEOUTS = (KafkaTimeoutError, RequestTimedOutError)


# -- wiring -------------------------------------------------------------------------


async def run(settings: ConsumerSettings, metrics: ConsumerMetrics, stop: asyncio.Event) -> None:
    """Build the clients, run the loop until ``stop``, and close everything in reverse."""
    pool = ScoringPool(settings.worker_processes, load_rulebook(settings))
    store = ObjectStore(settings)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
    )
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=settings.consumer_group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_session_timeout_ms // 3,
        max_poll_records=settings.max_in_flight,
    )
    scorer = ScoringConsumer(settings, metrics, consumer, producer, store, pool)
    try:
        await pool.start()
        await producer.start()
        consumer.subscribe([settings.topic_submitted], listener=_Rebalance(scorer))
        await consumer.start()
        logger.info(
            "consumer started",
            extra={"group": settings.consumer_group, "workers": settings.worker_processes},
        )
        try:
            await scorer.consume(stop)
        finally:
            await consumer.stop()
    finally:
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


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiokafka").setLevel(max(root.level, logging.WARNING))


def main() -> int:
    settings = ConsumerSettings()
    configure_logging(settings.log_level)
    metrics = ConsumerMetrics()
    server, _thread = start_http_server(settings.metrics_port, addr=settings.metrics_host)
    logger.info("metrics served", extra={"port": server.server_port})
    try:
        asyncio.run(_serve(settings, metrics))
    finally:
        server.shutdown()
    return 0
