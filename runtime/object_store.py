"""The object store client both services use: one bucket, never blocking the event loop.

Every minio SDK call blocks, so each public coroutine runs a private sync twin on
a dedicated thread pool (aiokafka's ``step``/``_step`` shape). The HTTP pool has
short timeouts and no retries, so an outage becomes an error in about a second
that the caller answers (503) or retries (consumer), not a hang in the SDK's
minutes of backoff.

SDK errors leave as two kinds, whoever calls: :class:`ObjectMissingError` (the
key is not there) and :class:`StorageUnavailableError` (the store did not answer
usefully; retrying later may work). Their messages name S3 error codes or the
transport error's class, never credentials. A read given a bound refuses a larger
object with a third, :class:`ObjectTooLargeError`: that is the object's fault, not
the store's, and retrying cannot help.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import hashlib
import http.client
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, BinaryIO, Protocol, TypeVar, runtime_checkable

import urllib3
from minio import Minio
from minio.commonconfig import REPLACE, CopySource, Tags
from minio.error import InvalidResponseError, S3Error, ServerError
from minio.helpers import MIN_PART_SIZE, genheaders

from runtime.s3_requests import MISSING_CODES, S3RequestError, SignedRequests
from runtime.settings import CommonSettings

T = TypeVar("T")

#: User metadata in which an upload keeps the SHA-256 of its bytes, as its uploader took it
#: (sent as ``x-amz-meta-civicqc-sha256``; S3 answers it on every GET).
DIGEST_METADATA = "civicqc-sha256"
_DIGEST_HEADER = f"x-amz-meta-{DIGEST_METADATA}"
_HEX_SHA256 = frozenset("0123456789abcdef")
#: The SDK's own timeouts, for a client built without :func:`minio_client`.
_DEFAULT_CONNECT_TIMEOUT_S = _DEFAULT_READ_TIMEOUT_S = 300.0
#: Exceptions that mean "the store is unreachable or refused", as opposed to our bugs.
_STORE_ERRORS = (
    S3Error,
    ServerError,
    InvalidResponseError,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
)


@runtime_checkable
class DigestedReader(Protocol):
    """A reader that hashes what it hands out, and can vouch for a request body's SHA-256."""

    def read(self, size: int = -1) -> bytes: ...

    def sha256_of(self, body: bytes) -> str | None:
        """The hex SHA-256 of ``body`` if it is all this reader returned, else ``None``."""


class _DigestReusingMinio(Minio):
    """The SDK's client, signing an upload with the SHA-256 its reader already took.

    Over plain HTTP the SDK hashes every request body to sign it
    (``x-amz-content-sha256``); the API's upload reader hashes the same bytes for the
    event's digest, so hashing twice cost the API a fifth of its CPU per upload. When
    the reader streaming through :meth:`ObjectStore.put_stream` vouches for the body
    (a single-part upload: the body is the one ``bytes`` the reader returned), that
    digest signs the request; the store still checks it against the bytes it
    receives, so the body stays covered by the signature. The same digest is kept
    with the object as user metadata (:data:`DIGEST_METADATA`), so a reader can learn
    what the bytes hash to without hashing them (:meth:`ObjectStore.fetch_vouched`).
    Anything else (multipart parts, other requests) is signed exactly as the SDK does
    it; over HTTPS, where the SDK sends ``UNSIGNED-PAYLOAD``, only the metadata is added.
    :meth:`ObjectStore.put_whole` takes the digest itself and vouches for its body with
    :meth:`vouching_for`. The hooks are the SDK's private ``_build_headers`` and
    ``_put_object`` (minio 7.2); tests/runtime/test_object_store.py fails if a new SDK
    stops calling the first or drops the second.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._streaming = threading.local()

    @contextlib.contextmanager
    def streaming_from(self, reader: object) -> Iterator[None]:
        """Let ``reader`` vouch for the bodies this thread sends until the block ends."""
        self._streaming.reader = reader if isinstance(reader, DigestedReader) else None
        try:
            yield
        finally:
            self._streaming.reader = None

    @contextlib.contextmanager
    def vouching_for(self, body: bytes, digest: str) -> Iterator[None]:
        """Sign ``body`` with ``digest`` (its SHA-256, taken by the caller) until the block ends."""
        self._streaming.reader = _Vouched(body, digest)
        try:
            yield
        finally:
            self._streaming.reader = None

    def _build_headers(  # type: ignore[no-untyped-def]
        self, host, headers=None, body=None, creds=None
    ):
        reader = getattr(self._streaming, "reader", None)
        digest = reader.sha256_of(body) if reader is not None and body else None
        if digest is None:
            return super()._build_headers(host, headers, body, creds)
        headers = {**(headers or {}), _DIGEST_HEADER: digest}
        if creds is None or self._base_url.is_https:
            return super()._build_headers(host, headers, body, creds)
        headers, date = super()._build_headers(host, headers, None, creds)
        headers["Content-Length"] = str(len(body))
        headers["x-amz-content-sha256"] = digest
        return headers, date


class _Vouched:
    """Vouches for one body, the one its digest was taken from."""

    __slots__ = ("_body", "_digest")

    def __init__(self, body: bytes, digest: str) -> None:
        self._body = body
        self._digest = digest

    def sha256_of(self, body: bytes) -> str | None:
        return self._digest if body is self._body else None


class ObjectMissingError(Exception):
    """The key does not exist."""


class StorageUnavailableError(Exception):
    """The object store could not be reached or refused the request; retrying later may work."""


class ObjectTooLargeError(Exception):
    """The object is larger than the reader's bound; at most one byte past it was read."""

    def __init__(self, key: str, max_bytes: int, size: int | None) -> None:
        """``size``: the length the store announced, or ``None`` when the body ran past the
        bound without one (or longer than it said)."""
        stated = "more than" if size is None else f"{size} bytes,"
        super().__init__(f"{key} is {stated} {max_bytes} bytes allowed")
        self.key = key
        self.max_bytes = max_bytes
        self.size = size


def minio_client(
    settings: CommonSettings, *, connect_timeout_s: float, read_timeout_s: float, pool_size: int
) -> Minio:
    """A client of ``S3_ENDPOINT``; empty ``S3_ACCESS_KEY``/``S3_SECRET_KEY`` mean anonymous."""
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=connect_timeout_s, read=read_timeout_s),
        retries=False,
        maxsize=pool_size,
    )
    return _DigestReusingMinio(
        settings.s3_endpoint,
        access_key=settings.s3_access_key.get_secret_value() or None,
        secret_key=settings.s3_secret_key.get_secret_value() or None,
        secure=settings.s3_secure,
        region=settings.s3_region,
        http_client=http,
    )


class ObjectStore:
    """One bucket. ``uploads`` is a second client for long part uploads, if the caller has one."""

    def __init__(
        self,
        client: Minio,
        bucket: str,
        *,
        max_workers: int,
        uploads: Minio | None = None,
        part_size: int = MIN_PART_SIZE,
    ) -> None:
        self._client = client
        self._uploads = uploads or client
        self.bucket = bucket
        self._part_size = part_size
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="object-store"
        )
        connect_s, read_s = _timeouts(client)
        self._requests = SignedRequests(client, connect_timeout_s=connect_s, read_timeout_s=read_s)

    def close(self, *, wait: bool = True) -> None:
        """Stop the pool; ``wait=False`` drops queued calls (an API shutting down mid-upload)."""
        self._executor.shutdown(wait=wait, cancel_futures=not wait)
        self._requests.close()

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(_mapped, fn, *args))

    # -- reads -----------------------------------------------------------------------
    async def fetch(self, key: str) -> bytes:
        """The object's bytes; :class:`ObjectMissingError` when there is no such key."""
        return await self._run(self._fetch, key)

    def _fetch(self, key: str) -> bytes:
        return self._fetch_vouched(key, None)[0]

    async def fetch_vouched(
        self, key: str, *, max_bytes: int | None = None
    ) -> tuple[bytes, str | None]:
        """The object's bytes and the SHA-256 its uploader vouched for (lower-case hex), or
        ``None`` when it left none (an upload in several parts, an object copied or written
        by a plain :meth:`put`). :class:`ObjectMissingError` when there is no such key.

        ``max_bytes``: an object larger than that is :class:`ObjectTooLargeError`, known from
        the GET's ``Content-Length`` before its body is read (no request more), and a body
        longer than its header says, or sent without one, is cut one byte past the bound:
        no object, whoever put it in the bucket, makes the reader hold more.
        """
        return await self._run(self._fetch_vouched, key, max_bytes)

    def _fetch_vouched(self, key: str, max_bytes: int | None) -> tuple[bytes, str | None]:
        with self._requests.get(self.bucket, key) as response:
            digest = response.getheader(_DIGEST_HEADER)
            return _body(response, key, max_bytes), _hex_sha256(digest)

    async def fetch_if_exists(self, key: str) -> bytes | None:
        """The object's bytes, or ``None`` when there is no such key."""
        try:
            return await self.fetch(key)
        except ObjectMissingError:
            return None

    async def first_key(self, prefix: str) -> str | None:
        """The first key under ``prefix``, or ``None``: finds an object whose extension we lack."""
        return await self._run(self._first_key, prefix)

    def _first_key(self, prefix: str) -> str | None:
        for obj in self._client.list_objects(self.bucket, prefix=prefix):
            name: str | None = obj.object_name
            return name
        return None

    # -- writes ----------------------------------------------------------------------
    async def put(
        self, key: str, data: bytes, content_type: str, tags: Mapping[str, str] | None = None
    ) -> None:
        """Store ``data``; ``tags`` travel in the same request (no second one to tag it)."""
        await self._run(self._put, key, data, content_type, _tags(tags))

    def _put(self, key: str, data: bytes, content_type: str, tags: Tags | None) -> None:
        self._requests.put(self.bucket, key, data, content_type, tags)

    async def put_stream(
        self,
        key: str,
        reader: BinaryIO,
        content_type: str,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """Stream ``reader`` to ``key``: one PUT when it fits a part, multipart otherwise.

        A :class:`DigestedReader` saves the client a second SHA-256 pass over a one-part body.
        """
        await self._run(self._put_stream, key, reader, content_type, _tags(tags))

    def _put_stream(self, key: str, reader: BinaryIO, content_type: str, tags: Tags | None) -> None:
        client = self._uploads
        vouching = (
            client.streaming_from(reader)
            if isinstance(client, _DigestReusingMinio)
            else contextlib.nullcontext()
        )
        with vouching:
            client.put_object(
                self.bucket,
                key,
                reader,
                length=-1,
                content_type=content_type,
                part_size=self._part_size,
                num_parallel_uploads=1,
                tags=tags,
            )

    async def put_whole(
        self,
        key: str,
        chunks: Sequence[bytes],
        content_type: str,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Store an upload the caller holds whole, in one PUT; return its hex SHA-256.

        For a body of at most one part (the API gathers one before it calls this):
        joined, hashed once and signed with that digest in the store's thread (never on
        the event loop), and sent with the SDK's single-object PUT directly, without
        :meth:`put_stream`'s read loop, part bookkeeping and argument checks (our keys
        are our own), which cost a small upload as much CPU as its hashing.
        """
        return await self._run(self._put_whole, key, chunks, content_type, _tags(tags))

    def _put_whole(
        self, key: str, chunks: Sequence[bytes], content_type: str, tags: Tags | None
    ) -> str:
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        digest = hashlib.sha256(body).hexdigest()
        headers = genheaders(None, None, tags, None, False)
        headers["Content-Type"] = content_type
        client = self._uploads
        vouching = (
            client.vouching_for(body, digest)
            if isinstance(client, _DigestReusingMinio)
            else contextlib.nullcontext()
        )
        with vouching:
            client._put_object(self.bucket, key, body, headers)
        return digest

    async def copy(self, source: str, target: str, tags: Mapping[str, str] | None = None) -> None:
        """Server-side copy; ``tags`` replace the source's on the copy when given."""
        object_tags = _tags(tags)
        directive = REPLACE if object_tags is not None else None
        await self._run(
            functools.partial(
                self._client.copy_object, tags=object_tags, tagging_directive=directive
            ),
            self.bucket,
            target,
            CopySource(self.bucket, source),
        )

    async def delete(self, key: str) -> None:
        """Deleting a key that is already gone succeeds (S3 semantics), so retries are safe."""
        await self._run(self._client.remove_object, self.bucket, key)

    async def tag(self, key: str, tags: Mapping[str, str]) -> None:
        """Replace the object's tags (one small request; the object is not rewritten)."""
        await self._run(self._requests.tag, self.bucket, key, _tags(tags))

    # -- health ----------------------------------------------------------------------
    async def check(self) -> None:
        """Raise :class:`StorageUnavailableError` unless the bucket answers a signed request."""
        if not await self._run(self._client.bucket_exists, self.bucket):
            raise StorageUnavailableError(f"bucket {self.bucket!r} does not exist")


def _body(response: http.client.HTTPResponse, key: str, max_bytes: int | None) -> bytes:
    """The body as stored, at most ``max_bytes`` of it (:meth:`ObjectStore.fetch_vouched`).

    A ``Content-Encoding`` the object was stored with is not undone: undoing it would turn a
    small gzip body into any size, and the bytes are what was uploaded (and hashed).
    """
    if max_bytes is None:
        return response.read()
    announced = _content_length(response)
    if announced is not None and announced > max_bytes:
        raise ObjectTooLargeError(key, max_bytes, announced)
    # http.client stops at the announced length, so a body longer than its header is cut
    # there; one without a header is cut here. The buffer is the body's size, not the bound's.
    data = response.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ObjectTooLargeError(key, max_bytes, None)
    return data


def _content_length(response: http.client.HTTPResponse) -> int | None:
    """The length the store announced; ``None`` when it sent none, or none that parses."""
    try:
        return int(response.getheader("Content-Length") or "")
    except ValueError:
        return None


def _hex_sha256(value: str | None) -> str | None:
    """``value`` if it reads as a hex SHA-256 (any case; returned in lower case), else ``None``."""
    if value is None or len(value) != 64 or not set(value.lower()) <= _HEX_SHA256:
        return None
    return value.lower()


def _tags(tags: Mapping[str, str] | None) -> Tags | None:
    if tags is None:
        return None
    object_tags = Tags.new_object_tags()
    object_tags.update(tags)
    return object_tags


def _mapped(fn: Callable[..., T], *args: object) -> T:
    try:
        return fn(*args)
    except S3RequestError as exc:
        if exc.missing:
            raise ObjectMissingError(exc.key) from exc
        raise StorageUnavailableError(f"object storage failed: {exc}") from exc
    except S3Error as exc:
        if exc.code in MISSING_CODES:
            raise ObjectMissingError(exc.object_name or "") from exc
        raise StorageUnavailableError(f"object storage failed: {_describe(exc)}") from exc
    except _STORE_ERRORS as exc:
        raise StorageUnavailableError(f"object storage failed: {_describe(exc)}") from exc


def _timeouts(client: Minio) -> tuple[float, float]:
    """The connect and read timeouts of ``client``'s HTTP pool (:func:`minio_client`'s), for
    the requests :class:`SignedRequests` sends itself."""
    timeout = client._http.connection_pool_kw.get("timeout")
    if isinstance(timeout, urllib3.Timeout):
        connect, read = timeout.connect_timeout, timeout.read_timeout
        if isinstance(connect, float | int) and isinstance(read, float | int):
            return float(connect), float(read)
    return _DEFAULT_CONNECT_TIMEOUT_S, _DEFAULT_READ_TIMEOUT_S


def _describe(exc: BaseException) -> str:
    """A short, secret-free description: S3 error codes, or the transport error's class."""
    if isinstance(exc, S3Error):
        return f"{exc.code} ({exc.message})"
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        return type(exc.reason).__name__
    return type(exc).__name__
