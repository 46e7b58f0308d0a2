"""Kafka publishing as the pipeline needs it: one message, acknowledged, or a typed failure.

aiokafka flags the errors worth retrying (``retriable``); a broker that is restarting
also answers with timeouts that are not flagged so. Both become
:class:`PublishUnavailableError`, which :mod:`consumer.retry` waits out like a storage
outage. So does a refusal for the producer's lost sequence, once a new producer has
replaced it (:mod:`runtime.producer_renewal`): without that, every later verdict of
that partition would be refused until the replica restarted. Anything else is a bug or
a misconfiguration and propagates.
"""

from __future__ import annotations

from aiokafka.errors import KafkaError, KafkaTimeoutError, RequestTimedOutError

from runtime.producer_renewal import SEQUENCE_LOST, RenewableProducer, RenewalFailed

#: Not flagged retriable by aiokafka, but a broker that is restarting answers just so.
_KAFKA_TIMEOUTS = (KafkaTimeoutError, RequestTimedOutError)


class PublishUnavailableError(Exception):
    """Kafka did not acknowledge the message; worth retrying."""


class KafkaPublisher:
    """Sends one message at a time and waits for ``acks=all``."""

    def __init__(self, producers: RenewableProducer) -> None:
        self._producers = producers

    async def publish(self, topic: str, key: bytes | None, value: bytes) -> None:
        producer = self._producers.current
        if producer is None:
            raise PublishUnavailableError("the Kafka producer is not started")
        try:
            await producer.send_and_wait(topic, value=value, key=key)
        except SEQUENCE_LOST as exc:
            # Refused, so not written: the retry sends it again on the new producer.
            try:
                await self._producers.renew(producer)
            except RenewalFailed as renewal:
                raise PublishUnavailableError(str(renewal)) from exc
            raise PublishUnavailableError(f"{type(exc).__name__}: {exc}") from exc
        except KafkaError as exc:
            if exc.retriable or isinstance(exc, _KAFKA_TIMEOUTS):
                raise PublishUnavailableError(f"{type(exc).__name__}: {exc}") from exc
            raise
