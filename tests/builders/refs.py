"""The stored-object reference of a test event whose bytes no test re-hashes."""

from __future__ import annotations

from core.events import ObjectRef


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
