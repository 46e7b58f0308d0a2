"""An upload's life: sniff, stream to object storage, announce, record the idempotency key.

The order is what makes a 202 honest and a 503 clean:

1. the object is stored (streamed, never whole in memory);
2. the ``ImageSubmitted`` event is published and acknowledged by the broker;
3. the idempotency record, if any, is stored (only now: see :mod:`producer_api.idempotency`).

Only then does the client hear 202. A failed publish deletes the object, except when
the event may still be delivered (:class:`~producer_api.publisher.PublishUnconfirmed`),
where the object is kept and tagged instead, so no event ever points at a missing
object.

Refusals and outages are :mod:`producer_api.upload_errors`: this module knows no
HTTP, the routes map them to answers. Upload slots are bounded per replica and per
API key (operator keys excepted), so one key's slow clients cannot hold them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO, cast

from minio.helpers import MIN_PART_SIZE
from pydantic import ValidationError

from core.events import ImageSubmitted, Location, ObjectRef, SubmissionMetadata
from core.formats import EXTENSIONS, MEDIA_TYPES, SNIFF_BYTES, sniff_format
from producer_api import idempotency
from producer_api.intake import ImageBody
from producer_api.metrics import ApiMetrics
from producer_api.ports import SubmittedPublisher, UploadStore
from producer_api.publisher import PublishUnavailable, PublishUnconfirmed
from producer_api.security import Principal
from producer_api.storage import ChunkPipe, UploadAborted
from producer_api.upload_errors import (
    DependencyUnavailableError,
    InvalidUploadError,
    MalformedUploadError,
    TenantForbiddenError,
    TooManyUploadsError,
    UnsupportedUploadError,
    UploadError,
    UploadSlotsBusyError,
    UploadTimeoutError,
)
from runtime.apikeys import ALL_TENANTS, KeyRole
from runtime.ids import issued_at, new_image_id
from runtime.layout import PENDING, VERDICT_TAG, incoming_key
from runtime.object_store import StorageUnavailableError

logger = logging.getLogger(__name__)

#: Tags of an upload until the consumer tags it with its verdict (runtime.layout); they
#: travel with the upload itself, so tagging costs no request of its own.
PENDING_TAGS = {VERDICT_TAG: PENDING}
#: Tags of an object whose event may or may not have reached Kafka; see module docstring.
#: Still pending, so the rule for unscored photos expires it if no verdict ever comes.
UNCONFIRMED_TAGS = {**PENDING_TAGS, "civicqc-publish": "unconfirmed"}
#: Request chunks allowed to wait between the client and the store's worker thread.
_PIPE_CHUNKS = 16

#: Metadata names as form fields; the same names with an ``X-`` prefix work as headers.
METADATA_FIELDS = ("tenant", "reporter_id", "category", "latitude", "longitude", "accuracy_m")


@dataclass(frozen=True)
class Accepted:
    event: ImageSubmitted
    replayed: bool = False


def metadata_from(values: Mapping[str, str]) -> SubmissionMetadata:
    """Validate client metadata; the error names the offending field."""
    lat, lon, accuracy = values.get("latitude"), values.get("longitude"), values.get("accuracy_m")
    if (lat is None) != (lon is None):
        raise InvalidUploadError("bad_metadata", "send latitude and longitude together")
    try:
        location = (
            None
            if lat is None or lon is None
            else Location.model_validate(
                {"latitude": lat, "longitude": lon, "accuracy_m": accuracy}
            )
        )
        return SubmissionMetadata.model_validate(
            {
                "tenant": values.get("tenant", "default"),
                "reporter_id": values.get("reporter_id"),
                "category": values.get("category"),
                "location": location,
            }
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or 'metadata'}: {err['msg']}"
            for err in exc.errors()
        )
        raise InvalidUploadError("bad_metadata", f"invalid metadata: {problems}") from exc


class Submitter:
    """Runs submissions; one per app, holding the concurrency limits."""

    def __init__(
        self,
        store: UploadStore,
        publisher: SubmittedPublisher,
        metrics: ApiMetrics,
        *,
        max_concurrent: int,
        max_per_key: int,
        idle_timeout_s: float,
        part_bytes: int = MIN_PART_SIZE,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._metrics = metrics
        self._slots = asyncio.Semaphore(max_concurrent)
        self._max_per_key = max_per_key
        self._in_flight: Counter[str] = Counter()
        self._idle_timeout_s = idle_timeout_s
        #: The store's part size: a body up to this long is gathered before it is sent.
        self._part_bytes = part_bytes

    async def submit(
        self,
        body: ImageBody,
        header_metadata: Mapping[str, str],
        idempotency_key: str | None,
        uploader: Principal,
    ) -> Accepted:
        """Store and announce one upload for ``uploader``, whose tenant is the default one."""
        values = dict(header_metadata)
        if uploader.tenant != ALL_TENANTS:
            values.setdefault("tenant", uploader.tenant)
        # Reject bad header metadata, or a tenant the key may not upload for, before a
        # byte of the body is read.
        first = metadata_from(values)
        _check_tenant(uploader, first.tenant)
        if idempotency_key is not None:
            replay = await self._replay(first.tenant, uploader.key_id, idempotency_key)
            if replay is not None:
                return replay
        async with self._slot(uploader):
            return await self._submit(body, values, first, idempotency_key, uploader)

    @contextlib.asynccontextmanager
    async def _slot(self, uploader: Principal) -> AsyncIterator[None]:
        """A replica-wide upload slot, and one of the key's own (operator keys have no cap)."""
        capped = uploader.role is not KeyRole.OPERATOR
        if capped and self._in_flight[uploader.key_id] >= self._max_per_key:
            raise TooManyUploadsError(
                "too_many_uploads",
                f"key {uploader.key_id} already has {self._max_per_key} uploads in progress "
                "(MAX_CONCURRENT_UPLOADS_PER_KEY)",
            )
        if self._slots.locked():
            raise UploadSlotsBusyError("busy", "too many uploads in progress; retry shortly")
        async with self._slots:  # free, so taken without a suspension: the count stays exact
            if capped:
                self._in_flight[uploader.key_id] += 1
            try:
                yield
            finally:
                if capped:
                    self._in_flight[uploader.key_id] -= 1
                    if not self._in_flight[uploader.key_id]:
                        del self._in_flight[uploader.key_id]

    async def _submit(
        self,
        body: ImageBody,
        values: Mapping[str, str],
        first: SubmissionMetadata,
        idempotency_key: str | None,
        uploader: Principal,
    ) -> Accepted:
        """``first``: the metadata of ``values``, all there is unless the form sent fields."""
        stored, image_id = await self._stored(body)
        key = stored.key
        # The object exists from here on: every failure below must remove it.
        try:
            fields = body.fields
            metadata = metadata_from({**values, **fields}) if fields else first
            _check_tenant(uploader, metadata.tenant)  # a form field may name another
            if idempotency_key is not None and metadata.tenant != first.tenant:
                replay = await self._replay(metadata.tenant, uploader.key_id, idempotency_key)
                if replay is not None:
                    await self._delete_quietly(key)
                    return replay
        except (UploadError, StorageUnavailableError):
            await self._delete_quietly(key)
            raise

        submitted_at = issued_at(image_id)
        assert submitted_at is not None
        event = ImageSubmitted(
            image_id=str(image_id), submitted_at=submitted_at, object=stored, metadata=metadata
        )
        await self._publish(event)
        if idempotency_key is not None:
            await self._remember(event, uploader.key_id, idempotency_key)
        self._metrics.record_submission(metadata.tenant, stored.size_bytes)
        logger.info(
            "image submitted",
            extra={
                "image_id": event.image_id,
                "tenant": metadata.tenant,
                "size_bytes": stored.size_bytes,
                "format": stored.format,
            },
        )
        return Accepted(event)

    async def _stored(self, body: ImageBody) -> tuple[ObjectRef, uuid.UUID]:
        """Sniff the head, then stream the whole body to a fresh ``incoming/`` key."""
        chunks = body.chunks()
        try:
            head = await _read_head(chunks)
            fmt = sniff_format(head)
            if not head:
                raise MalformedUploadError("empty_upload", "the image is empty")
            if fmt is None:
                raise UnsupportedUploadError(
                    "not_an_image", "the bytes are not a JPEG, PNG, WebP, HEIF, TIFF or BMP"
                )
            image_id = new_image_id()
            key = incoming_key(image_id, EXTENSIONS[fmt])
            size, sha256 = await self._store_object(key, MEDIA_TYPES[fmt], head, chunks)
        finally:
            await chunks.aclose()
        ref = ObjectRef(
            bucket=self._store.bucket,
            key=key,
            size_bytes=size,
            sha256=sha256,
            content_type=MEDIA_TYPES[fmt],
            format=fmt.value,
        )
        return ref, image_id

    async def _replay(self, tenant: str, api_key_id: str, key: str) -> Accepted | None:
        try:
            record = await idempotency.find_record(self._store, tenant, api_key_id, key)
        except StorageUnavailableError as exc:
            self._metrics.record_failure("idempotency")
            raise DependencyUnavailableError("object_storage") from exc
        if record is None:
            return None
        event = ImageSubmitted(
            image_id=record.image_id,
            submitted_at=record.submitted_at,
            object=record.object,
            metadata=SubmissionMetadata(tenant=tenant),
        )
        return Accepted(event, replayed=True)

    async def _remember(self, event: ImageSubmitted, api_key_id: str, key: str) -> None:
        """Best effort: the image is announced, so a lost record costs only a duplicate."""
        record = idempotency.IdempotencyRecord(
            image_id=event.image_id, submitted_at=event.submitted_at, object=event.object
        )
        try:
            await idempotency.save_record(
                self._store, event.metadata.tenant, api_key_id, key, record
            )
        except StorageUnavailableError as exc:
            self._metrics.record_failure("idempotency")
            logger.warning("idempotency record of %s not stored: %s", event.image_id, exc)

    async def _store_object(
        self, key: str, content_type: str, head: bytes, rest: AsyncIterator[bytes]
    ) -> tuple[int, str]:
        """Store head + rest at ``key``; the client's errors (413, 408...) win over the store's.

        The SDK sends nothing before it holds a part (or the whole body, if smaller), so
        the first part is gathered here: a photo that fits one then goes to the store's
        thread in one hop, as one PUT (:meth:`~runtime.object_store.ObjectStore.put_whole`);
        a larger one is streamed in parts through a pipe.
        """
        held, complete = await _first_part(head, rest, self._part_bytes)
        try:
            if complete:
                digest = await self._store.put_whole(key, held, content_type, PENDING_TAGS)
                return sum(len(chunk) for chunk in held), digest
            return await self._stream_object(key, content_type, held, rest)
        except StorageUnavailableError as exc:
            self._metrics.record_failure("object_store")
            logger.warning("upload to object storage failed: %s", exc)
            raise DependencyUnavailableError("object_storage") from exc
        except UploadAborted as exc:
            raise UploadTimeoutError("upload_timeout", "the upload stalled") from exc

    async def _stream_object(
        self, key: str, content_type: str, held: list[bytes], rest: AsyncIterator[bytes]
    ) -> tuple[int, str]:
        """The first part ``held``, then ``rest`` as it arrives, through a bounded pipe."""
        pipe = ChunkPipe(
            asyncio.get_running_loop(), _PIPE_CHUNKS, read_timeout_s=self._idle_timeout_s + 5
        )
        pipe.preload(held, eof=False)
        upload = asyncio.ensure_future(
            self._store.put_stream(key, cast(BinaryIO, pipe), content_type, PENDING_TAGS)
        )
        feeder = asyncio.ensure_future(_feed(pipe, rest))
        try:
            await asyncio.wait({upload, feeder}, return_when=asyncio.FIRST_EXCEPTION)
            if feeder.done() and feeder.exception() is not None:
                client_error = feeder.exception()
                assert client_error is not None
                pipe.abort(client_error)
                with contextlib.suppress(UploadAborted, StorageUnavailableError):
                    await upload
                raise client_error
            await upload
        finally:
            if not feeder.done():
                feeder.cancel()
                await asyncio.wait({feeder})  # it must stop iterating before the body is closed
            if not upload.done():
                pipe.abort(asyncio.CancelledError())
                with contextlib.suppress(
                    UploadAborted, StorageUnavailableError, asyncio.CancelledError
                ):
                    await upload
        return pipe.size_bytes, pipe.sha256

    async def _publish(self, event: ImageSubmitted) -> None:
        key = event.object.key
        try:
            await self._publisher.publish_submitted(event)
        except PublishUnavailable as exc:
            self._metrics.record_failure("kafka")
            logger.warning("publish failed, removing %s: %s", key, exc)
            await self._delete_quietly(key)
            raise DependencyUnavailableError("kafka") from exc
        except PublishUnconfirmed as exc:
            self._metrics.record_failure("kafka")
            logger.warning("publish unconfirmed, keeping %s tagged: %s", key, exc)
            try:
                await self._store.tag(key, UNCONFIRMED_TAGS)
            except StorageUnavailableError as tag_exc:
                self._metrics.record_failure("cleanup")
                logger.error("could not tag %s as unconfirmed: %s", key, tag_exc)
            raise DependencyUnavailableError("kafka") from exc

    async def _delete_quietly(self, key: str) -> None:
        """Best-effort undo; a failure is counted and logged with the key for an operator."""
        try:
            await self._store.delete(key)
        except StorageUnavailableError as exc:
            self._metrics.record_failure("cleanup")
            logger.error("could not delete orphan object %s: %s", key, exc)


def _check_tenant(uploader: Principal, tenant: str) -> None:
    if not uploader.may_act_for(tenant):
        raise TenantForbiddenError(tenant)


async def _read_head(chunks: AsyncIterator[bytes]) -> bytes:
    """At least :data:`SNIFF_BYTES` bytes, unless the image is shorter."""
    head = b""
    while len(head) < SNIFF_BYTES:
        try:
            head += await anext(chunks)
        except StopAsyncIteration:
            break
    return head


async def _first_part(
    head: bytes, rest: AsyncIterator[bytes], part_bytes: int
) -> tuple[list[bytes], bool]:
    """The body's chunks until they pass ``part_bytes``, and whether that was all of it."""
    held = [head]
    size = len(head)
    while size <= part_bytes:
        try:
            chunk = await anext(rest)
        except StopAsyncIteration:
            return held, True
        held.append(chunk)
        size += len(chunk)
    return held, False


async def _feed(pipe: ChunkPipe, rest: AsyncIterator[bytes]) -> None:
    """The body after what :meth:`ChunkPipe.preload` gave."""
    async for chunk in rest:
        await pipe.write_chunk(chunk)
    await pipe.finish()
