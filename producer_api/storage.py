"""Uploads as the API streams them: request chunks handed to the object store's blocking reader.

The store client itself is :class:`runtime.object_store.ObjectStore`, shared with
the consumer; this module adds what only an HTTP upload needs (a bounded pipe
from the event loop to the SDK's ``read()``) and the API's client sizes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import sys

from producer_api.settings import Settings
from runtime.object_store import ObjectStore, store_client


class UploadAborted(Exception):  # noqa: N818
    """Raised inside the SDK's read loop to stop a streaming upload; the SDK then aborts it."""


class ChunkPipe:
    """Hands request chunks from the event loop to the SDK's blocking ``read()`` in a thread.

    At most ``max_chunks`` chunks wait in between, so a fast client cannot outrun a
    slow store by more than that; the SDK itself holds one part. The SDK asks for a
    whole part at a time (``read(part_size + 1)``), and one ``read`` answers it with a
    single crossing to the event loop and a single join, not one per chunk: the SDK
    appends what each ``read`` returns to the part (a copy of the part so far each
    time), so small reads made an upload's CPU grow with the square of its chunks.
    Bytes are hashed here, in the worker thread, so hashing never runs on the event loop.
    Only an upload longer than one part comes through here, so the SDK signs each part
    itself; a shorter one goes to :meth:`~runtime.object_store.ObjectStore.put_whole`.
    """

    _EOF = b""

    def __init__(self, loop: asyncio.AbstractEventLoop, max_chunks: int, read_timeout_s: float):
        self._loop = loop
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=max_chunks)
        self._read_timeout_s = read_timeout_s
        self._pending = b""
        self._held: list[bytes] = []
        self._eof = False
        self._abort: BaseException | None = None
        self._hash = hashlib.sha256()
        self.size_bytes = 0

    # -- event-loop side -------------------------------------------------------------
    def preload(self, chunks: list[bytes], *, eof: bool) -> None:
        """Chunks the event loop already holds, given before the upload starts: the first
        ``read`` takes them without crossing to the loop (none at all when ``eof``)."""
        self._held = chunks
        self._eof = eof

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
        pieces += self._held
        self._held = []
        have = sum(len(piece) for piece in pieces)
        if have < want and not self._eof:
            future = asyncio.run_coroutine_threadsafe(self._take(want - have), self._loop)
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


def open_store(settings: Settings) -> ObjectStore:
    """Two clients: small requests give up after a second, photo and part uploads get longer.

    The pool is sized for the upload limit plus headroom, so slow uploads cannot
    starve the small reads that ``GET /v1/images/{id}`` and ``/readyz`` make.
    """
    return ObjectStore(
        store_client(
            settings,
            connect_timeout_s=settings.s3_connect_timeout_s,
            read_timeout_s=settings.s3_read_timeout_s,
            pool_size=8,
        ),
        settings.s3_bucket,
        max_workers=settings.max_concurrent_uploads + 8,
        uploads=store_client(
            settings,
            connect_timeout_s=settings.s3_connect_timeout_s,
            read_timeout_s=settings.s3_upload_timeout_s,
            pool_size=settings.max_concurrent_uploads,
        ),
        part_size=settings.upload_part_size,
    )
