"""One replica against real Kafka and real S3: bad input never stops the partition.

The consumer runs in-process here, so its metrics can be read from a fresh registry;
the end-to-end tests run it as separate processes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata, TopicPartition
from minio import Minio
from prometheus_client import CollectorRegistry

from consumer import horizon
from consumer.main import run
from consumer.metrics import ConsumerMetrics
from consumer.settings import ConsumerSettings
from core.events import DeadLetter, VerdictEvent
from core.schema import ErrorCode, Outcome
from runtime.layout import Folder, verdict_key, verdict_tags
from tests.builders import images
from tests.builders.latency_proxy import LatencyProxy
from tests.builders.stream import Stream, publish, read_topic, stored_submission

pytestmark = pytest.mark.integration


def good_photo() -> bytes:
    return images.encode(images.sharp_photo(800, 600), quality=90)


@asynccontextmanager
async def running(stream: Stream, **env: str) -> AsyncIterator[CollectorRegistry]:
    settings = ConsumerSettings.model_validate({k.lower(): v for k, v in stream.env(**env).items()})
    registry = CollectorRegistry()
    stop = asyncio.Event()
    task = asyncio.create_task(run(settings, ConsumerMetrics(registry), stop))
    try:
        yield registry
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=60)


async def submit(stream: Stream, s3: Minio, *blobs: bytes) -> list[str]:
    events = [stored_submission(s3, stream.bucket, blob) for blob in blobs]
    await publish(
        stream.bootstrap_servers,
        stream.submitted,
        [(e.image_id.encode(), e.model_dump_json().encode()) for e in events],
    )
    return [e.image_id for e in events]


def verdicts_by_id(messages: list[tuple[bytes | None, bytes]]) -> dict[str, VerdictEvent]:
    return {
        event.image_id: event
        for event in (VerdictEvent.model_validate_json(value) for _key, value in messages)
    }


def keys(s3: Minio, bucket: str, prefix: str) -> list[str]:
    return [o.object_name or "" for o in s3.list_objects(bucket, prefix=prefix, recursive=True)]


def tagged_as_scored(s3: Minio, bucket: str, verdicts: dict[str, VerdictEvent]) -> bool:
    """Whether every photo carries the tag of its verdict, where it was uploaded."""
    return all(
        dict(s3.get_object_tags(bucket, v.object.key) or {}) == verdict_tags(v.outcome)
        for v in verdicts.values()
    )


async def test_corrupt_objects_get_error_verdicts_and_the_consumer_keeps_going(
    stream: Stream, s3_client: Minio
) -> None:
    """A truncated photo, bytes that are no image, and a photo one byte over
    MAX_CONTENT_LENGTH (put in the bucket past the API) each get an error verdict."""
    truncated, limit = good_photo()[:2000], len(good_photo())
    async with running(stream, MAX_CONTENT_LENGTH=str(limit)) as registry:
        ids = await submit(
            stream, s3_client, truncated, b"not an image at all", good_photo(), good_photo() + b"x"
        )
        found = verdicts_by_id(
            await read_topic(stream.bootstrap_servers, stream.verdicts, expect=4, timeout_s=60)
        )
    assert set(found) == set(ids)
    assert [found[i].outcome for i in (ids[0], ids[1], ids[3])] == [Outcome.ERROR] * 3
    assert found[ids[2]].outcome is not Outcome.ERROR
    codes = [e.code for e in (found[i].error for i in (ids[0], ids[1], ids[3])) if e is not None]
    assert codes == [ErrorCode.CORRUPT, ErrorCode.UNSUPPORTED_FORMAT, ErrorCode.TOO_LARGE]
    assert found[ids[0]].object.key.startswith(Folder.PHOTOS.prefix)
    assert verdict_tags(Outcome.ERROR) == verdict_tags(Outcome.REJECTED)
    assert tagged_as_scored(s3_client, stream.bucket, found)
    assert len(keys(s3_client, stream.bucket, Folder.VERDICTS.prefix)) == 4
    scored = registry.get_sample_value(
        "civicqc_images_scored_total", {"verdict": "error", "tenant": "default"}
    )
    assert scored == 3
    assert registry.get_sample_value("civicqc_end_to_end_latency_seconds_count") == 4
    assert registry.get_sample_value("civicqc_worker_pool_workers") == 1


async def test_unusable_events_go_to_the_dead_letter_topic(
    stream: Stream, s3_client: Minio
) -> None:
    orphan = stored_submission(s3_client, stream.bucket, good_photo())
    s3_client.remove_object(stream.bucket, orphan.object.key)
    async with running(stream, MISSING_OBJECT_GRACE_S="2") as registry:
        await publish(
            stream.bootstrap_servers,
            stream.submitted,
            [(b"x", b"{not json"), (orphan.image_id.encode(), orphan.model_dump_json().encode())],
        )
        (good,) = await submit(stream, s3_client, good_photo())
        letters = await read_topic(stream.bootstrap_servers, stream.dlq, expect=2, timeout_s=60)
        found = await read_topic(stream.bootstrap_servers, stream.verdicts, expect=1, timeout_s=30)
    by_reason = {
        letter.reason.value: letter
        for letter in (DeadLetter.model_validate_json(value) for _k, value in letters)
    }
    assert set(by_reason) == {"invalid_event", "object_missing"}
    assert by_reason["object_missing"].attempts > 1, "a missing object gets a grace period"
    assert list(verdicts_by_id(found)) == [good]
    assert (
        registry.get_sample_value("civicqc_dlq_messages_total", {"reason": "object_missing"}) == 1
    )


async def test_a_photo_the_workers_give_up_on_gets_a_dead_letter_and_an_error_verdict(
    stream: Stream, s3_client: Minio
) -> None:
    """Every attempt overruns WORKER_TASK_TIMEOUT_S: the real pool kills its worker, and
    the citizen still gets an answer, stored where the API reads it."""
    async with running(stream, WORKER_TASK_TIMEOUT_S="0.001", MAX_RETRIES="1") as registry:
        (image_id,) = await submit(stream, s3_client, good_photo())
        letters = await read_topic(stream.bootstrap_servers, stream.dlq, expect=1, timeout_s=60)
        published = await read_topic(
            stream.bootstrap_servers, stream.verdicts, expect=1, timeout_s=60
        )
    (letter,) = [DeadLetter.model_validate_json(value) for _k, value in letters]
    assert (letter.reason.value, letter.attempts, letter.image_id) == (
        "worker_crashed",
        2,
        image_id,
    )
    ((_key, body),) = published
    verdict = VerdictEvent.model_validate_json(body)
    assert verdict.outcome is Outcome.ERROR
    assert verdict.error is not None and verdict.error.code is ErrorCode.TOO_COMPLEX
    assert s3_client.get_object(stream.bucket, verdict_key(image_id)).read() == body
    assert tagged_as_scored(s3_client, stream.bucket, {image_id: verdict})
    scored = registry.get_sample_value(
        "civicqc_images_scored_total", {"verdict": "error", "tenant": "default"}
    )
    assert scored == 1


async def test_an_object_store_outage_delays_verdicts_but_loses_none(
    stream: Stream, s3_client: Minio, unused_tcp_port: int
) -> None:
    """20 s of connection refused, then the store answers on the same address again."""
    ids = await submit(stream, s3_client, good_photo(), good_photo(), good_photo())
    host, port = stream.s3_endpoint.rsplit(":", 1)
    async with running(stream, S3_ENDPOINT=f"127.0.0.1:{unused_tcp_port}") as registry:
        early = await read_topic(
            stream.bootstrap_servers, stream.verdicts, expect=1, timeout_s=20, settle_s=0
        )
        store_back = LatencyProxy(host, int(port), port=unused_tcp_port).start()
        try:
            found = await read_topic(
                stream.bootstrap_servers, stream.verdicts, expect=3, timeout_s=60
            )
        finally:
            store_back.stop()
    assert early == [], "no verdict can be made while the store is down"
    assert set(verdicts_by_id(found)) == set(ids)
    letters = await read_topic(
        stream.bootstrap_servers, stream.dlq, expect=1, timeout_s=1, settle_s=0
    )
    assert letters == [], "an outage is not a reason to dead-letter"
    retries = registry.get_sample_value("civicqc_retries_total", {"operation": "fetch_verdict"})
    assert retries is not None and retries >= 3 * 20
    assert tagged_as_scored(s3_client, stream.bucket, verdicts_by_id(found))


async def test_sigterm_during_an_outage_stops_promptly_and_leaves_the_event_for_later(
    stream: Stream, s3_client: Minio, unused_tcp_port: int
) -> None:
    (image_id,) = await submit(stream, s3_client, good_photo())
    async with running(stream, S3_ENDPOINT=f"127.0.0.1:{unused_tcp_port}") as registry:
        for _ in range(600):  # until it is waiting out the outage
            if registry.get_sample_value("civicqc_retries_total", {"operation": "fetch_verdict"}):
                break
            await asyncio.sleep(0.1)
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 10, "waiting out an outage must not delay SIGTERM"
    async with running(stream):
        found = await read_topic(stream.bootstrap_servers, stream.verdicts, expect=1, timeout_s=60)
    assert list(verdicts_by_id(found)) == [image_id]


async def test_a_redelivered_event_republishes_the_stored_verdict_byte_for_byte(
    stream: Stream, s3_client: Minio
) -> None:
    async with running(stream):
        (image_id,) = await submit(stream, s3_client, good_photo())
        (first,) = await read_topic(
            stream.bootstrap_servers, stream.verdicts, expect=1, timeout_s=60
        )
    # Replay the event as a crash before the commit would: the object is filed already.
    event = stored_submission(s3_client, stream.bucket, good_photo(), image_id=image_id)
    s3_client.remove_object(stream.bucket, event.object.key)
    async with running(stream):
        await publish(
            stream.bootstrap_servers,
            stream.submitted,
            [(image_id.encode(), event.model_dump_json().encode())],
        )
        both = await read_topic(stream.bootstrap_servers, stream.verdicts, expect=2, timeout_s=60)
    assert [value for _k, value in both] == [first[1], first[1]]
    stored = s3_client.get_object(stream.bucket, verdict_key(image_id)).read()
    assert stored == first[1]


async def test_a_redelivery_below_the_committed_horizon_is_looked_up_and_republished_as_is(
    stream: Stream, s3_client: Minio
) -> None:
    """A crash after the verdict but before the commit, with the photo still in place: the
    restarted replica finds the event below the committed horizon, so it reads the stored
    verdict instead of scoring again. A new event moves the horizon a step ahead."""
    async with running(stream):
        (image_id,) = await submit(stream, s3_client, good_photo())
        (first,) = await read_topic(
            stream.bootstrap_servers, stream.verdicts, expect=1, timeout_s=60
        )
    tp, offset = await located(stream, image_id)
    done = await committed(stream, tp)
    assert done.offset == offset + 1
    assert horizon.decode(done.metadata) == offset + 1, "nobody started past the event"
    await rewind(stream, tp, offset, done.metadata)  # the commit the crash lost
    async with running(stream):
        both = await read_topic(stream.bootstrap_servers, stream.verdicts, expect=2, timeout_s=60)
        assert [value for _k, value in both] == [first[1], first[1]]
        new = stored_submission(s3_client, stream.bucket, good_photo())
        await publish(
            stream.bootstrap_servers,
            stream.submitted,
            [(new.image_id.encode(), new.model_dump_json().encode())],
        )
        await read_topic(stream.bootstrap_servers, stream.verdicts, expect=3, timeout_s=60)
    new_tp, new_offset = await located(stream, new.image_id)
    assert horizon.decode((await committed(stream, new_tp)).metadata) in (
        new_offset + 1,  # the log's end: a partition this group had not read from yet
        new_offset + 1 + horizon.STEP,  # moved a step past the event before it started
    )


async def located(stream: Stream, image_id: str) -> tuple[TopicPartition, int]:
    """The partition and offset of ``image_id``'s event."""
    reader = AIOKafkaConsumer(
        stream.submitted,
        bootstrap_servers=stream.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await reader.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for tp, records in (await reader.getmany(timeout_ms=500)).items():
                for record in records:
                    if record.key == image_id.encode():
                        return tp, record.offset
    finally:
        await reader.stop()
    raise AssertionError(f"no event of {image_id}")


async def committed(stream: Stream, tp: TopicPartition) -> OffsetAndMetadata:
    admin = AIOKafkaAdminClient(bootstrap_servers=stream.bootstrap_servers)
    await admin.start()
    try:
        offsets: dict[TopicPartition, OffsetAndMetadata] = await admin.list_consumer_group_offsets(
            stream.group
        )
    finally:
        await admin.close()
    return offsets[tp]


async def rewind(stream: Stream, tp: TopicPartition, offset: int, metadata: str) -> None:
    """Commit ``offset`` for the (idle) group, as if the commit past it had been lost."""
    member = AIOKafkaConsumer(
        bootstrap_servers=stream.bootstrap_servers, group_id=stream.group, enable_auto_commit=False
    )
    await member.start()
    try:
        member.assign([tp])
        await member.commit({tp: (offset, metadata)})
    finally:
        await member.stop()
