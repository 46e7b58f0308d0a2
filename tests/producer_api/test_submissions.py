"""The upload path's order of store, publish and idempotency record, with in-memory ports.

The fakes stand for our own ports (:mod:`producer_api.ports`), not for Kafka or S3:
they let a test hold a publish open and look at what a retry sees meanwhile, which
the real broker gives no deterministic way to do. The real-stack behaviour is in
``tests/producer_api/routes/test_images.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import BinaryIO

import pytest
from minio.helpers import MIN_PART_SIZE
from prometheus_client import CollectorRegistry
from starlette.requests import Request

from core.events import ImageSubmitted
from producer_api.intake import ImageBody
from producer_api.metrics import ApiMetrics
from producer_api.ports import SubmittedPublisher
from producer_api.publisher import PublishUnavailable
from producer_api.security import Principal
from producer_api.submissions import Accepted, Submitter
from producer_api.upload_errors import DependencyUnavailableError
from runtime.apikeys import KeyRole
from tests.producer_api.conftest import jpeg_bytes

KEY = Principal("0a0a0a0a", "springfield", KeyRole.TENANT)


class MemoryStore:
    """Objects in a dict; the pipe is drained on a thread, as the real store does."""

    bucket = "memory"

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.streamed: list[str] = []

    async def put_stream(
        self,
        key: str,
        reader: BinaryIO,
        content_type: str,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        self.objects[key] = await asyncio.to_thread(_drain, reader)
        self.streamed.append(key)

    async def put_whole(
        self,
        key: str,
        chunks: Sequence[bytes],
        content_type: str,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        self.objects[key] = b"".join(chunks)
        return hashlib.sha256(self.objects[key]).hexdigest()

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[key] = data

    async def fetch_if_exists(self, key: str) -> bytes | None:
        return self.objects.get(key)

    async def delete(self, key: str) -> None:
        self.objects.pop(key, None)

    async def tag(self, key: str, tags: Mapping[str, str]) -> None:
        pass


def _drain(reader: BinaryIO) -> bytes:
    parts = []
    while chunk := reader.read(65536):
        parts.append(chunk)
    return b"".join(parts)


class HeldPublisher:
    """Holds every publish until ``release``; then acks, or fails like a lost broker."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self._released = asyncio.Event()
        self._fail = False
        self.published: list[ImageSubmitted] = []

    def release(self, *, fail: bool) -> None:
        self._fail = fail
        self._released.set()

    async def publish_submitted(self, event: ImageSubmitted) -> None:
        self.entered.set()
        await self._released.wait()
        if self._fail:
            raise PublishUnavailable("no broker")
        self.published.append(event)


class AckingPublisher:
    """Acks every event at once."""

    def __init__(self) -> None:
        self.published: list[ImageSubmitted] = []

    async def publish_submitted(self, event: ImageSubmitted) -> None:
        self.published.append(event)


def _body(data: bytes, chunk: int | None = None) -> ImageBody:
    """``data`` as one request message, or as messages of ``chunk`` bytes."""
    size = chunk or max(1, len(data))
    messages = [data[at : at + size] for at in range(0, len(data), size)] or [b""]

    async def receive() -> dict[str, object]:
        body = messages.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(messages)}

    scope = {"type": "http", "method": "POST", "headers": [(b"content-type", b"image/jpeg")]}
    return ImageBody(
        Request(scope, receive), max_bytes=1 << 20, idle_timeout_s=5.0, deadline_s=10.0
    )


def _submitter(
    store: MemoryStore, publisher: SubmittedPublisher, part_bytes: int = MIN_PART_SIZE
) -> Submitter:
    metrics = ApiMetrics(CollectorRegistry(), known_tenants={"springfield"})
    return Submitter(
        store,
        publisher,
        metrics,
        max_concurrent=4,
        max_per_key=4,
        idle_timeout_s=5.0,
        part_bytes=part_bytes,
    )


@contextlib.asynccontextmanager
async def _first_upload_publishing(
    submitter: Submitter, publisher: HeldPublisher
) -> AsyncIterator[asyncio.Task[Accepted]]:
    first = asyncio.create_task(submitter.submit(_body(jpeg_bytes()), {}, "report-1", KEY))
    await asyncio.wait_for(publisher.entered.wait(), 5)
    try:
        yield first
    finally:
        if not first.done():
            first.cancel()


async def test_a_retry_while_the_publish_is_in_flight_is_not_told_202_for_a_lost_upload() -> None:
    store, publisher = MemoryStore(), HeldPublisher()
    submitter = _submitter(store, publisher)
    async with _first_upload_publishing(submitter, publisher) as first:
        retry = asyncio.create_task(submitter.submit(_body(jpeg_bytes()), {}, "report-1", KEY))
        await asyncio.sleep(0.2)
        # No record yet, so the retry is an upload of its own, also waiting for the broker.
        assert not retry.done()
        publisher.release(fail=True)
        for attempt in (first, retry):
            with pytest.raises(DependencyUnavailableError):
                await attempt
    assert store.objects == {}, "no object and no idempotency record is left behind"


async def test_the_record_is_written_after_the_ack_and_replayed() -> None:
    store, publisher = MemoryStore(), HeldPublisher()
    submitter = _submitter(store, publisher)
    async with _first_upload_publishing(submitter, publisher) as first:
        assert not any(key.startswith("idempotency/") for key in store.objects)
        publisher.release(fail=False)
        accepted = await first
    records = [key for key in store.objects if key.startswith("idempotency/")]
    assert records and records[0].startswith(f"idempotency/springfield/{KEY.key_id}/")
    again = await submitter.submit(_body(jpeg_bytes()), {}, "report-1", KEY)
    assert again.replayed and again.event.image_id == accepted.event.image_id
    other_key = Principal("0b0b0b0b", "springfield", KeyRole.TENANT)
    fresh = await submitter.submit(_body(jpeg_bytes()), {}, "report-1", other_key)
    assert not fresh.replayed and fresh.event.image_id != accepted.event.image_id


@pytest.mark.parametrize("chunk", [None, 700])
async def test_a_body_of_one_part_is_stored_whole_and_a_larger_one_streamed(
    chunk: int | None,
) -> None:
    store, publisher = MemoryStore(), AckingPublisher()
    submitter = _submitter(store, publisher, part_bytes=4096)
    small = jpeg_bytes(seed=1)
    large = small + bytes(range(256)) * 40  # past the 4096-byte part, still a JPEG by magic
    assert len(small) < 4096 < len(large)
    for data in (small, large):
        accepted = await submitter.submit(_body(data, chunk), {"category": "pothole"}, None, KEY)
        ref = accepted.event.object
        assert store.objects[ref.key] == data
        assert ref.size_bytes == len(data)
        assert ref.sha256 == hashlib.sha256(data).hexdigest()
        # Header metadata, validated once before the body, is the event's when no form
        # field adds to it.
        assert accepted.event.metadata.category == "pothole"
        assert accepted.event.metadata.tenant == "springfield"
    assert store.streamed == [publisher.published[1].object.key]
