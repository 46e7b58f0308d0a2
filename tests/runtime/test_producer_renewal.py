"""A producer that lost its place in a partition's sequence, against the real broker.

aiokafka fails a batch that waited too long for a partition leader with its sequence
number already taken (aio-libs/aiokafka#1017); from then on the broker refuses every
batch of that partition. In the fault test of a broker restart under load, that left
one partition in six refusing every upload until the API restarted. Here the same state
is made directly (the number skipped, as aiokafka skips it), and the broker's answer
is real.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import OutOfOrderSequenceNumber

from consumer.publisher import KafkaPublisher, PublishUnavailableError
from producer_api.publisher import Publisher
from runtime.kafka_connection import kafka_connection
from runtime.producer_renewal import RenewableProducer
from tests.builders.refs import announced_event
from tests.builders.stream import read_topic

pytestmark = pytest.mark.integration


def _lose_sequence(producer: AIOKafkaProducer, topic: str) -> None:
    """Leave ``producer`` as aiokafka leaves it after failing a numbered batch: the next
    number of partition 0 skipped. (A private member: an aiokafka that renames it fails
    this test loudly, and the module's premise should then be checked again.)"""
    producer._txn_manager.increment_sequence_number(TopicPartition(topic, 0), 1)


def _renewable(servers: str) -> RenewableProducer:
    return RenewableProducer(
        lambda: AIOKafkaProducer(bootstrap_servers=servers, acks="all", enable_idempotence=True),
        start_timeout_s=20.0,
    )


async def test_the_broker_refuses_a_lost_sequence_for_good_and_a_renewed_producer_is_taken(
    kafka_bootstrap_servers: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1)
    producers = _renewable(kafka_bootstrap_servers)
    broken = await producers.start()
    try:
        await broken.send_and_wait(topic, b"first")
        _lose_sequence(broken, topic)
        for _ in range(2):  # not once: every later batch of the partition
            with pytest.raises(OutOfOrderSequenceNumber):
                await broken.send_and_wait(topic, b"refused")
        renewed = await producers.renew(broken)
        assert renewed is not broken and producers.current is renewed
        assert await producers.renew(broken) is renewed, "a second caller gets the same one"
        await renewed.send_and_wait(topic, b"second")
    finally:
        await producers.stop()
    found = await read_topic(kafka_bootstrap_servers, topic, expect=2, timeout_s=20)
    assert [value for _, value in found] == [b"first", b"second"]
    assert producers.renewals == 1


async def test_the_api_publishes_through_a_lost_sequence_without_a_503(
    kafka_bootstrap_servers: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1)
    publisher = Publisher(
        kafka_connection(kafka_bootstrap_servers), topic, client_id="t-renew", send_timeout_s=10.0
    )
    events = [announced_event() for _ in range(3)]
    await publisher.start()
    try:
        await publisher.publish_submitted(events[0])
        first = publisher._producers.current
        assert first is not None
        _lose_sequence(first, topic)
        await publisher.publish_submitted(events[1])  # refused once, sent again: no 503
        await publisher.publish_submitted(events[2])
        assert publisher._producers.current is not first
    finally:
        await publisher.stop()
    found = await read_topic(kafka_bootstrap_servers, topic, expect=3, timeout_s=20)
    assert [key for key, _ in found] == [e.image_id.encode() for e in events], "each once"


async def test_a_consumer_verdict_refused_for_a_lost_sequence_is_retryable_and_lands_once(
    kafka_bootstrap_servers: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1)
    producers = _renewable(kafka_bootstrap_servers)
    publisher = KafkaPublisher(producers)
    await producers.start()
    keys = [uuid.uuid4().hex.encode() for _ in range(3)]
    try:
        await publisher.publish(topic, keys[0], b"v0")
        assert producers.current is not None
        _lose_sequence(producers.current, topic)
        with pytest.raises(PublishUnavailableError, match="OutOfOrderSequenceNumber"):
            await publisher.publish(topic, keys[1], b"v1")
        await publisher.publish(topic, keys[1], b"v1")  # the pipeline's retry
        await publisher.publish(topic, keys[2], b"v2")
    finally:
        await producers.stop()
    found = await read_topic(kafka_bootstrap_servers, topic, expect=3, timeout_s=20)
    assert found == [(keys[0], b"v0"), (keys[1], b"v1"), (keys[2], b"v2")]
