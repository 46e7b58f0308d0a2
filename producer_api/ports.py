"""What the upload path needs from object storage and Kafka, as protocols.

:class:`runtime.object_store.ObjectStore` and :class:`producer_api.publisher.Publisher`
are the real ones; unit tests pass in-memory fakes, so the order of store, publish and
record (and what a failure between them leaves behind) is tested without timing tricks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import BinaryIO, Protocol

from core.events import ImageSubmitted


class UploadStore(Protocol):
    """Raises :class:`runtime.object_store.StorageUnavailableError` when the store fails."""

    @property
    def bucket(self) -> str: ...

    async def put_stream(
        self,
        key: str,
        reader: BinaryIO,
        content_type: str,
        tags: Mapping[str, str] | None = None,
    ) -> None: ...

    async def put_whole(
        self,
        key: str,
        chunks: Sequence[bytes],
        content_type: str,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Store the body made of ``chunks``, in one request; return its hex SHA-256."""
        ...

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def fetch_if_exists(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None: ...

    async def tag(self, key: str, tags: Mapping[str, str]) -> None: ...


class SubmittedPublisher(Protocol):
    """Raises :class:`~producer_api.publisher.PublishUnavailable` or ``PublishUnconfirmed``."""

    async def publish_submitted(self, event: ImageSubmitted) -> None: ...
