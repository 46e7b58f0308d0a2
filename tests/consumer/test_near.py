"""Near-duplicates in a running replica on real Kafka: the fingerprint topic followed into
the indexes, and photos forgotten once they leave the window (expiry while it runs)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from consumer.near import KEEP_MARGIN_S, NearDuplicates
from core.events import FingerprintRecord, ImageSubmitted
from core.similar import SearchRule
from tests.builders.refs import jpeg_ref

pytestmark = pytest.mark.integration

DAY = 86_400.0
START = 1_800_000_000.0
PRINT = 0x0123_4567_89AB_CDEF
RULE = SearchRule(window_s=7 * DAY)
RULES = "default.0123456789abcdef"
SHA = "ab" * 32


def _record(
    n: int, age_s: float, fingerprint: int = PRINT, sha256: str | None = None
) -> FingerprintRecord:
    return FingerprintRecord(
        image_id=str(uuid.UUID(int=n)),
        tenant="springfield",
        fingerprint=f"{fingerprint:016x}",
        submitted_at=datetime.fromtimestamp(START - age_s, UTC),
        sha256=sha256,
        rules=None if sha256 is None else RULES,
    )


def _event(at: float) -> ImageSubmitted:
    return ImageSubmitted.model_validate(
        {
            "image_id": str(uuid.UUID(int=999)),
            "submitted_at": datetime.fromtimestamp(at, UTC),
            "object": jpeg_ref("photos/x.jpg"),
            "metadata": {"tenant": "springfield"},
        }
    )


async def _publish(servers: str, topic: str, records: list[FingerprintRecord]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all")
    await producer.start()
    try:
        for record in records:
            await producer.send_and_wait(
                topic, record.model_dump_json().encode(), key=record.image_id.encode()
            )
    finally:
        await producer.stop()


async def _until(done: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not done():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_running_replica_forgets_photos_that_leave_the_window(
    kafka_bootstrap_servers: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(partitions=1)
    now = [START]
    near = NearDuplicates(RULE, topic, prune_every_s=0.1, clock=lambda: now[0])
    # Two scorings of the same bytes (a copy scored while the first was pending), and a
    # third, read when already past the horizon.
    old, recent = _record(1, 6 * DAY, sha256=SHA), _record(2, 1 * DAY, PRINT ^ 0b11, SHA)
    expired = _record(3, RULE.window_s + KEEP_MARGIN_S + 60, sha256="cd" * 32)
    await _publish(kafka_bootstrap_servers, topic, [old, recent, expired])
    reader = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await reader.start()
    following = asyncio.create_task(near.follow(reader))
    try:
        await _until(lambda: near.fingerprints == 2)
        found = near.matches(_event(START), f"{PRINT:016x}")
        assert [(m.image_id, m.distance) for m in found] == [
            (old.image_id, 0),
            (recent.image_id, 2),
        ]
        # A copy to come names the scoring that stays longest; the expired one is unknown.
        assert near.first_copy("springfield", RULES, SHA) == recent.image_id
        assert near.first_copy("springfield", RULES, "cd" * 32) is None
        assert near.first_copy("springfield", "default.other", SHA) is None
        assert near.first_copy("elsewhere", RULES, SHA) is None

        # Three days on, the 6-day-old photo is 9 days old: past the window and the margin.
        now[0] = START + 3 * DAY
        await _until(lambda: near.fingerprints == 1)
        assert [m.image_id for m in near.matches(_event(now[0]), f"{PRINT:016x}")] == [
            recent.image_id
        ]
        assert len(near.index_of("springfield")) == 1

        assert near.first_copy("springfield", RULES, SHA) == recent.image_id

        now[0] = START + 10 * DAY
        await _until(lambda: near.fingerprints == 0)
        assert near.matches(_event(now[0]), f"{PRINT:016x}") == []
        assert near.first_copy("springfield", RULES, SHA) is None
    finally:
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
        await reader.stop()
