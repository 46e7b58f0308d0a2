"""Real Kafka: consumer groups, committed offsets, lag, rebalancing, broker restart."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from prometheus_client import CollectorRegistry, Gauge

from civicqc.stack import kafka
from consumer.commits import CommittedOffsets
from consumer.lag import LagReporter

pytestmark = pytest.mark.integration

PARTITIONS = 3


def _consumer(servers: str, topic: str, group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=servers,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        heartbeat_interval_ms=300,
        session_timeout_ms=10_000,
        metadata_max_age_ms=5_000,
    )


async def _produce(servers: str, topic: str, per_partition: int, tag: str) -> list[str]:
    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all", enable_idempotence=True)
    await producer.start()
    sent = []
    try:
        for partition in range(PARTITIONS):
            for i in range(per_partition):
                value = f"{tag}-{partition}-{i}"
                await producer.send_and_wait(topic, value.encode(), partition=partition)
                sent.append(value)
    finally:
        await producer.stop()
    return sent


Received = dict[int, list[tuple[int, str]]]


async def _poll_until(
    consumers: list[AIOKafkaConsumer], done: Callable[[Received], bool], timeout_s: float = 30.0
) -> Received:
    """Poll every consumer concurrently until ``done(received)``; returns what each got."""
    received: Received = {i: [] for i in range(len(consumers))}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not done(received):
        assert loop.time() < deadline, f"timed out; got {received}"
        batches = await asyncio.gather(*(c.getmany(timeout_ms=200) for c in consumers))
        for index, batch in enumerate(batches):
            for tp, records in batch.items():
                received[index] += [(tp.partition, r.value.decode()) for r in records]
    return received


async def _lag(servers: str, group: str, topic: str, probe: AIOKafkaConsumer) -> dict[int, int]:
    """end offset - committed offset, per partition, as an operator would compute it."""
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    ends = await probe.end_offsets(partitions)
    return {tp.partition: ends[tp] - committed[tp].offset for tp in partitions}


async def test_group_of_two_shares_partitions_commits_and_rebalances(
    kafka_bootstrap_servers: str, make_topic
) -> None:
    servers = kafka_bootstrap_servers
    topic = make_topic(PARTITIONS)
    group = f"g-{uuid.uuid4().hex[:8]}"
    first, second = _consumer(servers, topic, group), _consumer(servers, topic, group)
    await first.start()
    await second.start()
    try:
        # Both members joined and the three partitions are split between them.
        def split(_received: Received) -> bool:
            a, b = first.assignment(), second.assignment()
            return bool(a) and bool(b) and not a & b and len(a | b) == PARTITIONS

        await _poll_until([first, second], split)

        sent = await _produce(servers, topic, per_partition=10, tag="before")
        got = await _poll_until([first, second], lambda r: len(r[0]) + len(r[1]) >= len(sent))
        assert sorted(v for part in got.values() for _, v in part) == sorted(sent)
        for index, consumer in enumerate((first, second)):
            owned = {tp.partition for tp in consumer.assignment()}
            assert {partition for partition, _ in got[index]} <= owned
        await first.commit()
        await second.commit()

        ends = await first.end_offsets([TopicPartition(topic, p) for p in range(PARTITIONS)])
        assert {tp.partition: off for tp, off in ends.items()} == {0: 10, 1: 10, 2: 10}
        assert await _lag(servers, group, topic, first) == {0: 0, 1: 0, 2: 0}

        # Two unread records per partition: lag is exactly 2 everywhere.
        await _produce(servers, topic, per_partition=2, tag="after")
        assert await _lag(servers, group, topic, first) == {0: 2, 1: 2, 2: 2}
        # The replica's own gauge agrees, for the partitions it owns (one request for all).
        registry = CollectorRegistry()
        gauge = Gauge("lag_messages", "lag", ["topic", "partition"], registry=registry)
        admin = AIOKafkaAdminClient(bootstrap_servers=servers)
        await admin.start()
        try:
            await LagReporter(first, CommittedOffsets(admin, group), gauge, 60.0).report()
        finally:
            await admin.close()
        mine = sorted(tp.partition for tp in first.assignment())
        labels = [{"topic": topic, "partition": str(p)} for p in mine]
        assert [registry.get_sample_value("lag_messages", x) for x in labels] == [2.0] * len(mine)

        # The second member leaves: the first takes over all partitions and resumes
        # from the committed offsets, so it reads the six new records and nothing
        # committed. (Records it had fetched but not committed may come twice: the
        # eager rebalance resets positions to the committed offsets; that is the
        # at-least-once contract.)
        await second.stop()
        got = await _poll_until(
            [first],
            lambda r: len(first.assignment()) == PARTITIONS and len({v for _, v in r[0]}) >= 6,
        )
        assert {v for _, v in got[0]} == {
            f"after-{p}-{i}" for p in range(PARTITIONS) for i in range(2)
        }
        await first.commit()
        assert await _lag(servers, group, topic, first) == {0: 0, 1: 0, 2: 0}
    finally:
        await first.stop()
        await second.stop()


async def test_broker_restart_keeps_records_and_committed_offsets(
    kafka_bootstrap_servers: str, kafka_control, make_topic
) -> None:
    servers = kafka_bootstrap_servers
    topic = make_topic(PARTITIONS)
    group = f"g-{uuid.uuid4().hex[:8]}"
    sent = await _produce(servers, topic, per_partition=4, tag="durable")
    reader = _consumer(servers, topic, group)
    await reader.start()
    try:
        got = await _poll_until([reader], lambda r: len(r[0]) >= len(sent))
        await reader.commit({TopicPartition(topic, p): 2 for p in range(PARTITIONS)})
    finally:
        await reader.stop()
    assert sorted(v for _, v in got[0]) == sorted(sent)

    await asyncio.to_thread(kafka_control.restart)

    fresh = AIOKafkaConsumer(
        topic, bootstrap_servers=servers, auto_offset_reset="earliest", group_id=None
    )
    resumed = _consumer(servers, topic, group)
    await fresh.start()
    await resumed.start()
    try:
        everything = await _poll_until([fresh], lambda r: len(r[0]) >= len(sent))
        assert sorted(v for _, v in everything[0]) == sorted(sent)
        rest = await _poll_until([resumed], lambda r: len(r[0]) >= 2 * PARTITIONS)
        assert sorted(v for _, v in rest[0]) == sorted(
            f"durable-{p}-{i}" for p in range(PARTITIONS) for i in (2, 3)
        )
    finally:
        await fresh.stop()
        await resumed.stop()


async def topic_config(servers: str, topic: str) -> dict[str, str]:
    """The topic's settings as the broker reports them."""
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    [(error, _message, _type, _name, entries)] = response.resources
    assert error == 0, response
    return {entry[0]: entry[1] for entry in entries}


async def test_the_stack_creates_the_fingerprint_topic_compacted_for_eight_days(
    kafka_bootstrap_servers: str, make_topic: Callable[..., str]
) -> None:
    """``civicqc stack``'s topic settings on the real broker (under a fresh name: the
    session's broker is shared, and the default name would turn near-duplicate search on
    in every other test's consumer)."""
    name = f"{make_topic(1)}.fingerprints"
    settings = kafka.STREAM_TOPIC_CONFIGS["images.fingerprints"]
    await kafka.create_topics(kafka_bootstrap_servers, {name: 1}, configs={name: settings})
    try:
        config = await topic_config(kafka_bootstrap_servers, name)
        plain = await topic_config(kafka_bootstrap_servers, name.removesuffix(".fingerprints"))
    finally:
        await kafka.delete_topics(kafka_bootstrap_servers, [name])

    assert config["cleanup.policy"] == "compact,delete"
    assert config["retention.ms"] == str(8 * 86_400_000)
    assert plain["cleanup.policy"] == "delete"


async def test_committed_offsets_come_back_with_their_metadata(
    kafka_bootstrap_servers: str, make_topic
) -> None:
    """What the loop reads a partition's horizon from: the commit's metadata, intact, in
    one request for several partitions; a partition never committed reads as offset -1."""
    servers = kafka_bootstrap_servers
    topic = make_topic(PARTITIONS)
    group = f"g-{uuid.uuid4().hex[:8]}"
    member = AIOKafkaConsumer(bootstrap_servers=servers, group_id=group, enable_auto_commit=False)
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await member.start()
    await admin.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        member.assign(partitions)
        await member.commit({partitions[0]: (7, "h=263"), partitions[1]: (3, "")})
        found = await CommittedOffsets(admin, group).read(partitions)
    finally:
        await admin.close()
        await member.stop()
    assert (found[partitions[0]].offset, found[partitions[0]].metadata) == (7, "h=263")
    assert (found[partitions[1]].offset, found[partitions[1]].metadata) == (3, "")
    assert found[partitions[2]].offset == -1
