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
import functools
import hashlib
import http.client
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import BinaryIO, TypeVar

import urllib3
from minio import Minio
from minio.commonconfig import REPLACE, CopySource, Tags
from minio.error import InvalidResponseError, S3Error, ServerError
from minio.helpers import MIN_PART_SIZE

from runtime.s3_requests import MISSING_CODES, S3RequestError, SignedRequests
from runtime.settings import CommonSettings
from runtime.tls import client_context

T = TypeVar("T")

#: User metadata in which an upload keeps the SHA-256 of its bytes, as its uploader took it
#: (sent as ``x-amz-meta-civicqc-sha256``; S3 answers it on every GET).
DIGEST_METADATA = "civicqc-sha256"
_DIGEST_HEADER = f"x-amz-meta-{DIGEST_METADATA}"
_HEX_SHA256 = frozenset("0123456789abcdef")
#: Exceptions that mean "the store is unreachable or refused", as opposed to our bugs.
_STORE_ERRORS = (
    S3Error,
    ServerError,
    InvalidResponseError,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
)


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
    """The SDK's client of ``S3_ENDPOINT``; empty ``S3_ACCESS_KEY``/``S3_SECRET_KEY`` mean
    anonymous. Its region is ``S3_REGION``, as :class:`SignedRequests` signs, so it never asks
    the store for one."""
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=connect_timeout_s, read=read_timeout_s),
        retries=False,
        maxsize=pool_size,
        # The same trust as the signed requests: S3_SSL_CAFILE, else the system's CAs.
        ssl_context=client_context(settings.s3_ssl_cafile, settings="S3_SSL_CAFILE")
        if settings.s3_secure
        else None,
    )
    return Minio(
        settings.s3_endpoint,
        access_key=settings.s3_access_key.get_secret_value() or None,
        secret_key=settings.s3_secret_key.get_secret_value() or None,
        secure=settings.s3_secure,
        region=settings.s3_region,
        http_client=http,
    )


@dataclass(frozen=True)
class StoreClient:
    """One endpoint's two clients, with the same settings and timeouts: the SDK for what is
    rare or long (multipart uploads, listing, copy, delete, the bucket probe) and
    :class:`SignedRequests` for what every photo costs (its PUT, GET and tag)."""

    sdk: Minio
    requests: SignedRequests


def store_client(
    settings: CommonSettings, *, connect_timeout_s: float, read_timeout_s: float, pool_size: int
) -> StoreClient:
    """Both clients of ``S3_ENDPOINT``; ``pool_size`` bounds the SDK's connections (the signed
    requests keep one per store thread)."""
    sdk = minio_client(
        settings,
        connect_timeout_s=connect_timeout_s,
        read_timeout_s=read_timeout_s,
        pool_size=pool_size,
    )
    requests = SignedRequests.of(
        settings, connect_timeout_s=connect_timeout_s, read_timeout_s=read_timeout_s
    )
    return StoreClient(sdk, requests)


class ObjectStore:
    """One bucket. ``uploads`` is a second client for long part uploads, if the caller has one."""

    def __init__(
        self,
        client: StoreClient,
        bucket: str,
        *,
        max_workers: int,
        uploads: StoreClient | None = None,
        part_size: int = MIN_PART_SIZE,
    ) -> None:
        self._client = client.sdk
        self._requests = client.requests
        uploads = uploads or client
        self._uploads = uploads.sdk
        self._upload_requests = uploads.requests
        self.bucket = bucket
        self._part_size = part_size
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="object-store"
        )

    def close(self, *, wait: bool = True) -> None:
        """Stop the pool; ``wait=False`` drops queued calls (an API shutting down mid-upload)."""
        self._executor.shutdown(wait=wait, cancel_futures=not wait)
        self._requests.close()
        self._upload_requests.close()

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
        """Stream ``reader`` to ``key`` with the SDK's ``put_object``: multipart once it is
        longer than a part (the API sends a shorter body with :meth:`put_whole`)."""
        await self._run(self._put_stream, key, reader, content_type, _tags(tags))

    def _put_stream(self, key: str, reader: BinaryIO, content_type: str, tags: Tags | None) -> None:
        self._uploads.put_object(
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
        joined and hashed once in the store's thread (never on the event loop), then
        sent by :class:`SignedRequests` signed with that digest, so the photo is not
        hashed a second time to sign it (the store checks the signed digest against the
        bytes it gets; SeaweedFS does not). The digest is kept with the object as user
        metadata (:data:`DIGEST_METADATA`), so a reader learns what the bytes hash to
        without hashing them (:meth:`fetch_vouched`); tags travel in the same request.
        """
        return await self._run(self._put_whole, key, chunks, content_type, _tags(tags))

    def _put_whole(
        self, key: str, chunks: Sequence[bytes], content_type: str, tags: Tags | None
    ) -> str:
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        digest = hashlib.sha256(body).hexdigest()
        self._upload_requests.put(
            self.bucket,
            key,
            body,
            content_type,
            tags,
            sha256=digest,
            metadata={DIGEST_METADATA: digest},
        )
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


def _describe(exc: BaseException) -> str:
    """A short, secret-free description: S3 error codes, or the transport error's class."""
    if isinstance(exc, S3Error):
        return f"{exc.code} ({exc.message})"
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        return _describe(exc.reason)
    refused = _certificate_refusal(exc)
    if refused is not None:
        # Why the store's certificate did not verify names no secret, and tells an
        # operator whether S3_SSL_CAFILE is missing or wrong.
        return f"{type(exc).__name__}: certificate verify failed ({refused.verify_message})"
    return type(exc).__name__


def _certificate_refusal(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate error inside a transport error (urllib3 wraps it in its arguments)."""
    seen: list[object] = [exc]
    for _ in range(4):
        found = next((e for e in seen if isinstance(e, ssl.SSLCertVerificationError)), None)
        if found is not None:
            return found
        seen = [
            inner
            for e in seen
            if isinstance(e, BaseException)
            for inner in (*e.args, e.__cause__)
            if isinstance(inner, BaseException)
        ]
    return None
