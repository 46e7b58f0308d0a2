"""Announces stored images on Kafka with an idempotent, ``acks=all`` producer.

Failures come in two kinds, and the caller cleans up differently for each:

- :class:`PublishUnavailable`: the event never entered the producer (no broker,
  the partition leader is unreachable, or the broker refused it for good). Nothing
  will ever be delivered, so the stored object can be deleted. A refusal for the
  producer's lost sequence is not final: the event is sent again on a new producer
  (:mod:`runtime.producer_renewal`).
- :class:`PublishUnconfirmed`: the event is in the producer but no ack came in
  time. An idempotent producer retries such a batch until the broker takes it, so
  the event may still arrive later, and the object must stay (tagged, it expires with
  the pending photos if no verdict comes). aiokafka does give up on a batch whose
  partition has had no leader for longer than the request timeout, as happens while
  a broker restarts: that event never arrives, and its producer has lost its place in
  the partition's sequence.

To make the common outage (broker down) the clean first kind, the partition is
computed here with Kafka's default key hashing and its leader is checked before
the event is handed over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import TopicPartition

from core.events import ImageSubmitted
from runtime.kafka_connection import KafkaConnection
from runtime.producer_renewal import SEQUENCE_LOST, RenewableProducer, RenewalFailed

logger = logging.getLogger(__name__)

_CONTENT_TYPE = ("content-type", b"application/json")
_RECONNECT_BACKOFF_S = (0.5, 1.0, 2.0, 5.0)


class PublishUnavailable(Exception):  # noqa: N818 - a state, like aiokafka's error names
    """The event was not handed to Kafka; it will never be delivered."""


class PublishUnconfirmed(Exception):  # noqa: N818
    """The event was handed to the producer but not acknowledged in time; it may still land."""


class _SequenceLost(Exception):  # noqa: N818
    """The broker refused the event, not written, for the producer's lost sequence."""


class Publisher:
    """Owns the producer; starts it in the background so the API boots while Kafka is down."""

    def __init__(
        self,
        kafka: KafkaConnection,
        topic: str,
        *,
        client_id: str,
        send_timeout_s: float,
    ) -> None:
        self._kafka = kafka
        self.topic = topic
        self._client_id = client_id
        self._send_timeout_s = send_timeout_s
        self._producers = RenewableProducer(self._new_producer, start_timeout_s=send_timeout_s)
        self._connector: asyncio.Task[None] | None = None

    def _new_producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            **self._kafka.options(),
            client_id=self._client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=0,
            request_timeout_ms=max(1000, int(self._send_timeout_s * 1000)),
            retry_backoff_ms=100,
        )

    async def start(self) -> None:
        """Try once now; on failure keep trying in the background, so the API still boots."""
        if not await self._try_start():
            self._connector = asyncio.create_task(self._keep_connecting(), name="kafka-connect")

    async def _try_start(self) -> bool:
        producer = self._producers.new()
        try:
            await producer.start()
        except KafkaError as exc:
            logger.warning("Kafka producer could not start: %r", exc)
            await producer.stop()
            return False
        self._producers.adopt(producer)
        logger.info(
            "Kafka producer connected to %s (%s)",
            self._kafka.bootstrap_servers,
            self._kafka.security_protocol,
        )
        return True

    async def _keep_connecting(self) -> None:
        attempt = 0
        while not await self._try_start():
            await asyncio.sleep(_RECONNECT_BACKOFF_S[min(attempt, len(_RECONNECT_BACKOFF_S) - 1)])
            attempt += 1

    async def stop(self) -> None:
        if self._connector is not None:
            self._connector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connector
        await self._producers.stop()

    async def publish_submitted(self, event: ImageSubmitted) -> None:
        """Return once the event is durable on the broker (``acks=all``), or raise.

        An event the broker refused because the producer lost its place in the partition's
        sequence was not written, so it is sent once more, on a new producer: without that,
        every later upload to that partition would get 503 until the API restarted.
        """
        producer = self._producers.current
        if producer is None:
            raise PublishUnavailable("Kafka is not reachable (the producer is not connected)")
        try:
            await self._publish(producer, event)
        except _SequenceLost:
            try:
                renewed = await self._producers.renew(producer)
            except RenewalFailed as exc:
                raise PublishUnavailable(str(exc)) from exc
            try:
                await self._publish(renewed, event)
            except _SequenceLost as exc:
                raise PublishUnavailable(f"Kafka refused the event: {exc.__cause__!r}") from exc

    async def _publish(self, producer: AIOKafkaProducer, event: ImageSubmitted) -> None:
        key = event.image_id.encode()
        try:
            async with asyncio.timeout(self._send_timeout_s):
                partition = await self._reachable_partition(producer, key)
                delivery = await producer.send(
                    self.topic,
                    value=event.model_dump_json().encode(),
                    key=key,
                    partition=partition,
                    headers=[_CONTENT_TYPE],
                )
        except TimeoutError as exc:
            raise PublishUnavailable("Kafka did not accept the event in time") from exc
        except KafkaError as exc:
            raise PublishUnavailable(f"Kafka refused the event: {exc!r}") from exc
        try:
            async with asyncio.timeout(self._send_timeout_s):
                await asyncio.shield(delivery)
        except TimeoutError as exc:
            raise PublishUnconfirmed("Kafka did not acknowledge the event in time") from exc
        except SEQUENCE_LOST as exc:
            raise _SequenceLost from exc
        except KafkaError as exc:
            # Retriable errors are retried forever by an idempotent producer: this one is final.
            raise PublishUnavailable(f"Kafka rejected the event: {exc!r}") from exc

    async def _reachable_partition(self, producer: AIOKafkaProducer, key: bytes) -> int:
        """The partition Kafka's key hashing picks, once its leader answers a connection."""
        partitions = await producer.partitions_for(self.topic)
        partition: int = DefaultPartitioner()(key, sorted(partitions), list(partitions))
        leader = producer.client.cluster.leader_for_partition(TopicPartition(self.topic, partition))
        if leader is None or leader < 0:
            # Metadata read while a restarted broker had not yet taken leadership says "no
            # leader" until the next refresh (minutes by default); ask for one now, so the
            # uploads after this 503 see the leader as soon as the broker has it.
            _refresh_soon(producer)
            raise PublishUnavailable(f"partition {partition} of {self.topic} has no leader")
        if not await producer.client.ready(leader):
            raise PublishUnavailable(f"the leader of {self.topic}[{partition}] is unreachable")
        return partition

    async def check(self, timeout_s: float) -> None:
        """Raise unless a broker answers a metadata request within ``timeout_s``."""
        producer = self._producers.current
        if producer is None:
            raise PublishUnavailable("Kafka producer not connected")
        try:
            async with asyncio.timeout(timeout_s):
                await producer.client.fetch_all_metadata()
        except TimeoutError as exc:
            raise PublishUnavailable("Kafka did not answer a metadata request in time") from exc
        except KafkaError as exc:
            raise PublishUnavailable(f"Kafka is unreachable: {exc!r}") from exc


def _refresh_soon(producer: AIOKafkaProducer) -> None:
    """Wake the client's metadata refresh without waiting for it (its outcome is not ours)."""
    refreshed = producer.client.force_metadata_update()
    refreshed.add_done_callback(lambda done: done.cancelled() or done.exception())
