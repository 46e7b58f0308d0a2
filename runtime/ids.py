"""Image ids: UUIDv7 (RFC 9562), so ids sort by submission time and carry their own date.

The API issues them; the embedded timestamp also names the day folder of the
object key (:mod:`runtime.layout`), which lets ``GET /v1/images/{id}`` find an
object without an index.
"""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import UTC, datetime

_VERSION = 7
#: The last millisecond ``datetime`` can represent (9999-12-31T23:59:59.999Z).
_LAST_MS = int(datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC).timestamp() * 1000)


def new_image_id(now_ns: int | None = None) -> uuid.UUID:
    """A fresh UUIDv7: 48-bit Unix milliseconds, then 74 random bits."""
    unix_ms = (time.time_ns() if now_ns is None else now_ns) // 1_000_000
    rand = secrets.randbits(74)
    value = (unix_ms & 0xFFFF_FFFF_FFFF) << 80
    value |= _VERSION << 76
    value |= (rand >> 62) << 64  # rand_a: 12 bits
    value |= 0b10 << 62  # RFC 4122 variant
    value |= rand & ((1 << 62) - 1)  # rand_b: 62 bits
    return uuid.UUID(int=value)


def issued_at(image_id: uuid.UUID) -> datetime | None:
    """When a UUIDv7 was made (UTC, millisecond precision); ``None`` for other versions.

    Also ``None`` past year 9999: 48 bits of milliseconds reach year 10889, which a
    client may send but ``datetime`` cannot hold, and we never issued.
    """
    if image_id.version != _VERSION:
        return None
    unix_ms = image_id.int >> 80
    if unix_ms > _LAST_MS:
        return None
    return datetime.fromtimestamp(unix_ms / 1000, tz=UTC)
