"""UUIDv7 image ids: ordered by time, dated."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from runtime.ids import issued_at, new_image_id


def test_uuid7_layout_and_order() -> None:
    now_ns = 1_750_000_000_123_000_000
    ids = [new_image_id(now_ns + i * 1_000_000) for i in range(50)]
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert ids == sorted(ids)
    assert issued_at(ids[0]) == datetime(2025, 6, 15, 15, 6, 40, 123000, tzinfo=UTC)
    assert len({new_image_id() for _ in range(1000)}) == 1000


def test_only_a_uuid7_carries_a_date() -> None:
    assert issued_at(uuid.uuid4()) is None
