"""One consumer replica: images.submitted in, verdicts out, in aiokafka's start/try/finally shape.

Per event: read the stored verdict (a redelivery reuses it byte for byte) or fetch the
object, score it in the process pool, file a copy under ``accepted/`` or ``rejected/``,
store ``verdicts/{id}.json``, publish the verdict, delete the incoming object. Offsets
are committed only after the verdict is published, and only up to the contiguous
finished prefix of each partition: delivery is at least once, and a duplicate verdict
is byte-identical to the first one (same image id, same payload).

When the profile runs the privacy check and the verdict says ``redaction_required``,
the worker also renders a redacted copy, stored next to the filed original as
``{accepted,rejected}/yyyy/mm/dd/{id}.redacted.jpg`` before the verdict (which
references it) is stored.

Failures are sorted by whether waiting can fix them. An object store that does not
answer (refused, reset, timed out, 5xx) is the same outage for every event, so those
steps are retried with capped backoff until it is back; the in-flight bound keeps the
rest of the partition waiting, and SIGTERM or a revocation abandons the event
uncommitted, to be redone. Kafka publish failures are likewise retried until Kafka
answers (the dead-letter topic lives on the same cluster). Only what is wrong with one
event goes to the dead-letter topic so its partition keeps moving: an event that does
not parse, an object still missing a grace period after its event said it exists, and
a scoring worker that crashes again and again on the same bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
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

from consumer.metrics import ConsumerMetrics
from consumer.offsets import PartitionOffsets
from consumer.scoring import ScoringPool, WorkerCrashedError
from consumer.settings import ConsumerSettings
from consumer.storage import open_store
from core.events import (
    DeadLetter,
    DeadLetterReason,
    ImageSubmitted,
    ObjectRef,
    SourceRecord,
    VerdictEvent,
)
from core.privacy import redact_exif
from core.schema import Verdict
from runtime.cpus import usable_cores
from runtime.layout import filed_key, redacted_key, verdict_key
from runtime.logs import configure_logging
from runtime.object_store import ObjectMissingError, ObjectStore, StorageUnavailableError
from runtime.rulebook import load_rulebook, profile_for_tenant

logger = logging.getLogger(__name__)

T = TypeVar("T")


class _GaveUpError(Exception):
    """Retries of one event ran out, or retrying cannot help; the event is dead-lettered."""

    def __init__(self, reason: DeadLetterReason, attempts: int, cause: Exception) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.reason = reason
        self.attempts = attempts


class _AbandonedError(Exception):
    """The replica is stopping, or lost the event's partition, while it waited out an outage.

    The event is left unfinished: its offset is not committed, so this replica after a
    restart, or the partition's new owner, does it again (idempotently)."""


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
        #: Partitions being revoked: their events stop waiting out outages.
        self._revoking: set[TopicPartition] = set()
        #: Set (and replaced) to wake every backoff sleep early: on stop and on revocation.
        self._wake = asyncio.Event()
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
            self._wake.set()
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
        if isinstance(exc, _AbandonedError):
            return  # not finished: the offset stays uncommitted and the event is redone
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
        self._revoking |= revoked
        self._wake.set()
        self._wake = asyncio.Event()
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
        self._revoking -= assigned
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
        tp = TopicPartition(record.topic, record.partition)
        try:
            await self._process(event, tp)
        except _GaveUpError as gave_up:
            await self._dead_letter(record, event.image_id, gave_up)

    async def _process(self, event: ImageSubmitted, tp: TopicPartition) -> None:
        source, image_id = event.object.key, event.image_id

        def retrying(operation: str, step: Callable[[], Awaitable[T]]) -> Awaitable[T]:
            return self._retrying(operation, step, tp)

        stored = await retrying(
            "fetch_verdict", lambda: self._store.fetch_if_exists(verdict_key(image_id))
        )
        verdict: Verdict | None = None
        if stored is None:
            data = await self._fetch_submitted(source, tp)
            profile = profile_for_tenant(self._settings, event.metadata.tenant)
            scored = await retrying("score", lambda: self._pool.score(data, profile, image_id))
            verdict = scored.verdict
            target = filed_key(source, verdict.verdict)
            await retrying("file", lambda: self._store.copy(source, target))
            redacted = None
            if scored.redacted is not None:
                ref = _jpeg_ref(event.object.bucket, redacted_key(target), scored.redacted)
                jpeg = scored.redacted
                await retrying(
                    "store_redacted", lambda: self._store.put(ref.key, jpeg, "image/jpeg")
                )
                redacted = ref
            elif verdict.redaction_required:
                logger.warning("redacted copy could not be rendered", extra={"image_id": image_id})
            body = (
                VerdictEvent.of(
                    redact_exif(verdict, self._settings.exif_in_verdicts),
                    image_id=image_id,
                    submitted_at=event.submitted_at,
                    scored_at=datetime.now(UTC),
                    metadata=event.metadata,
                    object=event.object.model_copy(update={"key": target}),
                    redacted=redacted,
                )
                .model_dump_json()
                .encode()
            )
            await retrying(
                "store", lambda: self._store.put(verdict_key(image_id), body, "application/json")
            )
        else:
            # A redelivery: the first attempt got as far as storing its verdict (and the
            # redacted copy, which is stored before it).
            body = stored
            target = VerdictEvent.model_validate_json(stored).object.key
            with contextlib.suppress(ObjectMissingError):  # filed and deleted by then
                await retrying("file", lambda: self._store.copy(source, target))
        await self._publish(self._settings.topic_verdicts, image_id.encode(), body)
        await retrying("delete", lambda: self._store.delete(source))
        if verdict is not None:
            self._record(event, verdict)

    async def _fetch_submitted(self, key: str, tp: TopicPartition) -> bytes:
        """The submitted bytes. A missing object is retried for ``missing_object_grace_s``
        (a lagging replica of the store may not have it yet), then dead-lettered."""
        give_up_at = time.monotonic() + self._settings.missing_object_grace_s
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._retrying("fetch", lambda: self._store.fetch(key), tp)
            except ObjectMissingError as exc:
                if time.monotonic() >= give_up_at:
                    raise _GaveUpError(DeadLetterReason.OBJECT_MISSING, attempt, exc) from exc
                await self._wait_before_retry("fetch_missing", attempt, exc, tp)

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

    async def _retrying(
        self, operation: str, step: Callable[[], Awaitable[T]], tp: TopicPartition
    ) -> T:
        """``step()``, retried with capped backoff: until the object store is back, and up to
        ``max_retries`` times after a scoring worker crashed (then dead-lettered)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return await step()
            except StorageUnavailableError as exc:
                await self._wait_before_retry(operation, attempt, exc, tp)
            except WorkerCrashedError as exc:
                if attempt > self._settings.max_retries:
                    raise _GaveUpError(DeadLetterReason.WORKER_CRASHED, attempt, exc) from exc
                await self._wait_before_retry(operation, attempt, exc, tp)

    async def _wait_before_retry(
        self, operation: str, attempt: int, exc: Exception, tp: TopicPartition
    ) -> None:
        """Sleep the backoff of ``attempt``; raise :class:`_AbandonedError` instead when the
        replica is stopping or no longer owns ``tp``, now or during the sleep."""
        if self._leaving(tp):
            raise _AbandonedError(operation) from exc
        self._metrics.retries.labels(operation).inc()
        logger.warning(
            "transient failure, retrying",
            extra={"operation": operation, "attempt": attempt, "error": repr(exc)},
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=self._backoff(attempt))
        if self._leaving(tp):
            raise _AbandonedError(operation) from exc

    def _leaving(self, tp: TopicPartition) -> bool:
        return self._stopping or tp in self._revoking or tp not in self._offsets

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


def _jpeg_ref(bucket: str, key: str, data: bytes) -> ObjectRef:
    return ObjectRef(
        bucket=bucket,
        key=key,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content_type="image/jpeg",
        format="jpeg",
    )


def _names(partitions: Iterable[TopicPartition]) -> list[str]:
    return sorted(f"{tp.topic}[{tp.partition}]" for tp in partitions)


#: Not flagged retriable by aiokafka, but a broker that is restarting answers just so.
_KAFKA_TIMEOUTS = (KafkaTimeoutError, RequestTimedOutError)


# -- wiring -------------------------------------------------------------------------


async def run(settings: ConsumerSettings, metrics: ConsumerMetrics, stop: asyncio.Event) -> None:
    """Build the clients, run the loop until ``stop``, and close everything in reverse."""
    rulebook = load_rulebook(settings)
    # Only the profiles an event can select: each worker loads their detectors.
    selectable = {settings.rule_profile, *settings.tenant_profiles.values()}
    pool = ScoringPool(
        settings.worker_processes,
        {name: rules for name, rules in rulebook.items() if name in selectable},
        cores=usable_cores(),
    )
    store = open_store(settings)
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
