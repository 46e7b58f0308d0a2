"""The near-duplicate index: distance, time window and location rules, replays, growth."""

from __future__ import annotations

import uuid

from core.similar import FingerprintIndex, Place, SearchRule, metres_between

DAY = 86_400.0
NOW = 1_800_000_000.0
PRINT = 0x0123_4567_89AB_CDEF


def image_id(n: int) -> str:
    return str(uuid.UUID(int=n))


def test_close_fingerprints_within_the_window_are_listed_closest_first() -> None:
    index = FingerprintIndex(capacity=2)  # grows past its first capacity
    index.add(image_id(1), PRINT ^ 0b111, NOW - DAY, None)  # 3 bits off
    index.add(image_id(2), PRINT ^ 0b1, NOW - 2 * DAY, None)  # 1 bit off
    index.add(image_id(3), PRINT ^ 0xFFFF_FFFF, NOW - DAY, None)  # 32 bits off: another photo
    index.add(image_id(4), PRINT, NOW - 8 * DAY, None)  # outside the 7 days
    index.add(image_id(5), PRINT, NOW + 60, None)  # later than the photo looked up

    found = index.search(PRINT, NOW, None, SearchRule(max_distance=16))

    assert [(m.image_id, m.distance, m.at) for m in found] == [
        (image_id(2), 1, NOW - 2 * DAY),
        (image_id(1), 3, NOW - DAY),
    ]
    assert len(index) == 5


def test_location_is_required_close_only_when_both_photos_have_one() -> None:
    index = FingerprintIndex()
    here = Place(52.5200, 13.4050)
    index.add(image_id(1), PRINT, NOW - 1, Place(52.5201, 13.4050))  # ~11 m away
    index.add(image_id(2), PRINT, NOW - 2, Place(52.5300, 13.4050))  # ~1.1 km away
    index.add(image_id(3), PRINT, NOW - 3, None)

    near = {m.image_id for m in index.search(PRINT, NOW, here, SearchRule(max_metres=50))}
    anywhere = {m.image_id for m in index.search(PRINT, NOW, None, SearchRule(max_metres=50))}

    assert near == {image_id(1), image_id(3)}
    assert anywhere == {image_id(1), image_id(2), image_id(3)}
    assert 1_000 < metres_between(here, Place(52.5300, 13.4050)) < 1_200


def test_a_replayed_record_is_kept_once() -> None:
    index = FingerprintIndex()
    for _ in range(3):
        index.add(image_id(7), PRINT, NOW - 1, None)

    assert len(index) == 1
    assert len(index.search(PRINT, NOW, None, SearchRule())) == 1


def test_many_copies_list_the_closest_up_to_the_limit_newest_first_among_equals() -> None:
    index = FingerprintIndex()
    for n in range(200):  # one photo sent 200 times, exact copies but the last few
        index.add(image_id(n), PRINT ^ (0b11 if n >= 195 else 0), NOW - 1000 + n, None)
    index.add(image_id(999), PRINT, NOW + 5, None)  # later than the lookup: never listed

    found = index.search(PRINT, NOW, None, SearchRule(max_distance=16, limit=10))

    assert [m.image_id for m in found] == [image_id(n) for n in range(194, 184, -1)]
    assert {m.distance for m in found} == {0}
