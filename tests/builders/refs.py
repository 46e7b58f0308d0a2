"""The stored-object reference of a test event whose bytes no test re-hashes."""

from __future__ import annotations

from datetime import UTC, datetime

from core.events import ImageSubmitted, ObjectRef, SubmissionMetadata
from runtime.ids import new_image_id


def jpeg_ref(key: str, *, bucket: str = "b", size_bytes: int = 1) -> ObjectRef:
    """A JPEG's reference under ``key``, with a placeholder SHA-256.

    Why a placeholder: these tests check what follows from an event (routing, advice,
    summaries, shadow comparisons), never the upload's integrity, which has tests of its own.
    """
    return ObjectRef(
        bucket=bucket,
        key=key,
        size_bytes=size_bytes,
        sha256="0" * 64,
        content_type="image/jpeg",
        format="jpeg",
    )


def announced_event() -> ImageSubmitted:
    """An ``ImageSubmitted`` for a new id, of a JPEG no test reads: for tests of publishing."""
    image_id = str(new_image_id())
    return ImageSubmitted(
        image_id=image_id,
        submitted_at=datetime.now(UTC),
        object=jpeg_ref(f"photos/{image_id}.jpg"),
        metadata=SubmissionMetadata(tenant="default"),
    )
