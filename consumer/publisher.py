"""Kafka publishing as the pipeline needs it: one message, acknowledged, or a typed failure.

aiokafka flags the errors worth retrying (``retriable``); a broker that is restarting
also answers with timeouts that are not flagged so. Both become
:class:`PublishUnavailableError`, which :mod:`consumer.retry` waits out like a storage
outage. Anything else is a bug or a misconfiguration and propagates.
"""

from __future__ import annotations

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, KafkaTimeoutError, RequestTimedOutError

#: Not flagged retriable by aiokafka, but a broker that is restarting answers just so.
_KAFKA_TIMEOUTS = (KafkaTimeoutError, RequestTimedOutError)


class PublishUnavailableError(Exception):
    """Kafka did not acknowledge the message; worth retrying."""


class KafkaPublisher:
    """Sends one message at a time and waits for ``acks=all``."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer

    async def publish(self, topic: str, key: bytes | None, value: bytes) -> None:
        try:
            await self._producer.send_and_wait(topic, value=value, key=key)
        except KafkaError as exc:
            if exc.retriable or isinstance(exc, _KAFKA_TIMEOUTS):
                raise PublishUnavailableError(f"{type(exc).__name__}: {exc}") from exc
            raise
