"""Object storage as the consumer needs it: read a submission, file it by outcome, keep verdicts.

The minio SDK blocks, so each async method hands its private sync twin to a thread
pool sized to the in-flight bound (as aiokafka's ``step``/``_step``). SDK errors are
mapped to two kinds here: :class:`ObjectMissingError` (the key is not there) and
:class:`StorageUnavailableError` (the store did not answer usefully: retried with
capped backoff until it does).
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import urllib3
from minio import Minio
from minio.commonconfig import CopySource
from minio.error import InvalidResponseError, S3Error, ServerError

from consumer.settings import ConsumerSettings
from core.schema import Outcome

T = TypeVar("T")

_MISSING_CODES = frozenset({"NoSuchKey", "NoSuchObject"})
INCOMING_PREFIX = "incoming/"


class ObjectMissingError(Exception):
    """The key does not exist: the event points at nothing, or a retry already filed it."""


class StorageUnavailableError(Exception):
    """The object store did not answer usefully; worth retrying."""


#: ``incoming/yyyy/mm/dd/`` then the image id, a dot and a lower-case extension.
_INCOMING_NAME = re.compile(r"incoming/\d{4}/\d{2}/\d{2}/(?P<id>[^/]+)\.[a-z0-9]{1,8}")
#: What an image id may be (the API's UUIDv7s, tests' hex ids): never a path.
_IMAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def is_incoming_key(key: str, image_id: str) -> bool:
    """Whether ``key`` is where the API stores the upload ``image_id``."""
    found = _INCOMING_NAME.fullmatch(key)
    return found is not None and found["id"] == image_id and bool(_IMAGE_ID.fullmatch(image_id))


def filed_key(incoming_key: str, outcome: Outcome) -> str:
    """``incoming/2025/01/31/id.jpg`` -> ``accepted/...`` or ``rejected/...``.

    ``error`` verdicts are filed under ``rejected/`` too: a photo that cannot be
    decoded cannot document an issue either, and its stored verdict says why.
    """
    folder = "accepted/" if outcome is Outcome.ACCEPTED else "rejected/"
    rest = incoming_key.removeprefix(INCOMING_PREFIX)
    return folder + rest


def redacted_key(filed: str) -> str:
    """``accepted/2025/01/31/id.jpg`` -> ``accepted/2025/01/31/id.redacted.jpg``.

    Next to the filed original, so the copy shares its retention rule and its
    day listing; always JPEG, whatever the original's format.
    """
    folder, _slash, name = filed.rpartition("/")
    stem = name.split(".", 1)[0]
    return f"{folder}/{stem}.redacted.jpg" if folder else f"{stem}.redacted.jpg"


def verdict_key(image_id: str) -> str:
    """Where ``GET /v1/images/{id}`` of the API reads the verdict."""
    return f"verdicts/{image_id}.json"


class ObjectStore:
    """One bucket, with timeouts short enough that an outage becomes a retry, not a hang."""

    def __init__(self, settings: ConsumerSettings) -> None:
        self.bucket = settings.s3_bucket
        self._threads = ThreadPoolExecutor(
            max_workers=settings.max_in_flight, thread_name_prefix="s3"
        )
        http = urllib3.PoolManager(
            num_pools=2,
            maxsize=settings.max_in_flight,
            timeout=urllib3.Timeout(connect=2.0, read=settings.s3_timeout_s),
            retries=False,
        )
        self._client = Minio(
            settings.s3_endpoint,
            access_key=settings.s3_access_key.get_secret_value(),
            secret_key=settings.s3_secret_key.get_secret_value(),
            secure=settings.s3_secure,
            region=settings.s3_region,
            http_client=http,
        )

    def close(self) -> None:
        self._threads.shutdown(wait=True)

    async def _call(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._threads, _mapped, fn)

    async def fetch(self, key: str) -> bytes:
        return await self._call(lambda: self._fetch(key))

    def _fetch(self, key: str) -> bytes:
        response = self._client.get_object(self.bucket, key)
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    async def copy(self, source: str, target: str) -> None:
        await self._call(
            lambda: self._client.copy_object(self.bucket, target, CopySource(self.bucket, source))
        )

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await self._call(
            lambda: self._client.put_object(
                self.bucket, key, io.BytesIO(data), len(data), content_type=content_type
            )
        )

    async def delete(self, key: str) -> None:
        """Deleting a key that is already gone succeeds (S3 semantics), so retries are safe."""
        await self._call(lambda: self._client.remove_object(self.bucket, key))


def _mapped(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except S3Error as exc:
        if exc.code in _MISSING_CODES:
            raise ObjectMissingError(exc.object_name or "") from exc
        raise StorageUnavailableError(f"S3 {exc.code}: {exc.message}") from exc
    except (ServerError, InvalidResponseError) as exc:
        raise StorageUnavailableError(str(exc)) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise StorageUnavailableError(f"{type(exc).__name__}: {exc}") from exc
