"""Object storage through the minio SDK, without ever blocking the event loop.

Every SDK call is blocking, so each public coroutine here runs a private sync twin
on a dedicated thread pool (aiokafka's ``step``/``_step`` shape). The pool is sized
for the upload concurrency limit plus headroom, so slow uploads cannot starve the
small reads that ``GET /v1/images/{id}`` and ``/readyz`` make.

The HTTP pool has short timeouts and no retries: when the store is down a request
fails in about a second and the caller answers 503, instead of hanging for the
SDK's default minutes of backoff.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import hashlib
import io
import logging
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import BinaryIO, TypeVar, cast

import urllib3
from minio import Minio
from minio.commonconfig import Tags
from minio.error import InvalidResponseError, S3Error, ServerError

from producer_api.settings import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Exceptions that mean "the store is unreachable or refused", as opposed to our bugs.
_STORE_ERRORS = (S3Error, ServerError, InvalidResponseError, urllib3.exceptions.HTTPError, OSError)


class StorageUnavailable(Exception):  # noqa: N818 - reads as a state, like aiokafka's errors
    """The object store could not be reached or refused the request; retrying later may work."""


class UploadAborted(Exception):  # noqa: N818
    """Raised inside the SDK's read loop to stop a streaming upload; the SDK then aborts it."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size_bytes: int
    sha256: str


class ChunkPipe:
    """Hands request chunks from the event loop to the SDK's blocking ``read()`` in a thread.

    At most ``max_chunks`` chunks wait in between, so a fast client cannot outrun a
    slow store by more than that; the SDK itself holds one part. The SDK asks for a
    whole part at a time (``read(part_size + 1)``), and one ``read`` answers it with a
    single crossing to the event loop and a single join, not one per chunk: the SDK
    appends what each ``read`` returns to the part (a copy of the part so far each
    time), so small reads made an upload's CPU grow with the square of its chunks.
    Bytes are hashed here, in the worker thread, so hashing never runs on the event loop.
    """

    _EOF = b""

    def __init__(self, loop: asyncio.AbstractEventLoop, max_chunks: int, read_timeout_s: float):
        self._loop = loop
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=max_chunks)
        self._read_timeout_s = read_timeout_s
        self._pending = b""
        self._eof = False
        self._abort: BaseException | None = None
        self._hash = hashlib.sha256()
        self.size_bytes = 0

    # -- event-loop side -------------------------------------------------------------
    async def write_chunk(self, chunk: bytes) -> None:
        if chunk:
            await self._queue.put(chunk)

    async def finish(self) -> None:
        await self._queue.put(self._EOF)

    def abort(self, reason: BaseException) -> None:
        """Make the reader fail on its next read; never blocks, safe from a ``finally``."""
        self._abort = reason
        # When the queue is full the reader is busy; it checks ``_abort`` before its next read.
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(self._EOF)

    async def _take(self, size: int) -> list[bytes]:
        """Whole chunks adding up to at least ``size`` bytes, or all that is left."""
        chunks: list[bytes] = []
        taken = 0
        while taken < size:
            chunk = await self._queue.get()
            if chunk is self._EOF or not chunk or self._abort is not None:
                self._eof = True
                break
            chunks.append(chunk)
            taken += len(chunk)
        return chunks

    # -- worker-thread side ----------------------------------------------------------
    def read(self, size: int = -1) -> bytes:
        if self._abort is not None:
            raise UploadAborted(str(self._abort))
        want = sys.maxsize if size is None or size < 0 else size
        pieces = [self._pending] if self._pending else []
        if len(self._pending) < want and not self._eof:
            future = asyncio.run_coroutine_threadsafe(
                self._take(want - len(self._pending)), self._loop
            )
            try:
                pieces += future.result(timeout=self._read_timeout_s)
            except TimeoutError as exc:
                # The loop side gives up first (408); this only guards against a lost loop.
                future.cancel()
                raise UploadAborted("no data from the client") from exc
            if self._abort is not None:
                raise UploadAborted(str(self._abort))
        out = pieces[0] if len(pieces) == 1 else b"".join(pieces)  # no copy for one chunk
        out, self._pending = (out[:want], out[want:]) if len(out) > want else (out, b"")
        self._hash.update(out)
        self.size_bytes += len(out)
        return out

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


class ObjectStore:
    def __init__(
        self,
        client: Minio,
        bucket: str,
        part_size: int,
        max_workers: int,
        uploads: Minio | None = None,
    ) -> None:
        self._client = client
        self._uploads = uploads or client
        self.bucket = bucket
        self._part_size = part_size
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="object-store"
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> ObjectStore:
        """Two clients: small requests give up after a second, part uploads get longer."""

        def client(read_timeout_s: float, pool_size: int) -> Minio:
            http = urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=settings.s3_connect_timeout_s, read=read_timeout_s),
                retries=False,
                maxsize=pool_size,
            )
            return Minio(
                settings.s3_endpoint,
                access_key=settings.s3_access_key.get_secret_value() or None,
                secret_key=settings.s3_secret_key.get_secret_value() or None,
                secure=settings.s3_secure,
                region=settings.s3_region,
                http_client=http,
            )

        return cls(
            client(settings.s3_read_timeout_s, 8),
            settings.s3_bucket,
            part_size=settings.upload_part_size,
            max_workers=settings.max_concurrent_uploads + 8,
            uploads=client(settings.s3_upload_timeout_s, settings.max_concurrent_uploads),
        )

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, functools.partial(fn, *args))
        except _STORE_ERRORS as exc:
            raise StorageUnavailable(f"object storage failed: {_describe(exc)}") from exc

    # -- uploads ---------------------------------------------------------------------
    async def put_stream(self, key: str, pipe: ChunkPipe, content_type: str) -> StoredObject:
        """Stream ``pipe`` to ``key``; a single PUT when it fits one part, multipart otherwise."""
        await self._run(self._put_stream, key, pipe, content_type)
        return StoredObject(key=key, size_bytes=pipe.size_bytes, sha256=pipe.sha256)

    def _put_stream(self, key: str, pipe: ChunkPipe, content_type: str) -> None:
        self._uploads.put_object(
            self.bucket,
            key,
            cast(BinaryIO, pipe),
            length=-1,
            content_type=content_type,
            part_size=self._part_size,
            num_parallel_uploads=1,
        )

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        await self._run(self._put_bytes, key, data, content_type)

    def _put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self._client.put_object(
            self.bucket, key, io.BytesIO(data), length=len(data), content_type=content_type
        )

    # -- reads -----------------------------------------------------------------------
    async def get_bytes(self, key: str) -> bytes | None:
        """The object's bytes, or ``None`` when there is no such key."""
        return await self._run(self._get_bytes, key)

    def _get_bytes(self, key: str) -> bytes | None:
        try:
            response = self._client.get_object(self.bucket, key)
        except S3Error as exc:
            if exc.code == "NoSuchKey":
                return None
            raise
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    async def first_key(self, prefix: str) -> str | None:
        """The first key under ``prefix``, or ``None``: finds an object whose extension we lack."""
        return await self._run(self._first_key, prefix)

    def _first_key(self, prefix: str) -> str | None:
        for obj in self._client.list_objects(self.bucket, prefix=prefix):
            name: str | None = obj.object_name
            return name
        return None

    # -- cleanup ---------------------------------------------------------------------
    async def delete(self, key: str) -> None:
        await self._run(self._client.remove_object, self.bucket, key)

    async def tag(self, key: str, tags: Mapping[str, str]) -> None:
        object_tags = Tags.new_object_tags()
        object_tags.update(tags)
        await self._run(self._client.set_object_tags, self.bucket, key, object_tags)

    # -- health ----------------------------------------------------------------------
    async def check(self) -> None:
        """Raise :class:`StorageUnavailable` unless the bucket answers a signed request."""
        exists = await self._run(self._client.bucket_exists, self.bucket)
        if not exists:
            raise StorageUnavailable(f"bucket {self.bucket!r} does not exist")


def _describe(exc: BaseException) -> str:
    """A short, secret-free description: S3 error codes, or the transport error's class."""
    if isinstance(exc, S3Error):
        return f"{exc.code} ({exc.message})"
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        return type(exc.reason).__name__
    return type(exc).__name__
