"""The near-duplicate index: distance, time window and location rules, replays, growth,
pruning."""

from __future__ import annotations

import tracemalloc
import uuid

import numpy as np
import pytest

from core import similar
from core.similar import REPLAY_HORIZON, FingerprintIndex, Place, SearchRule, metres_between

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


def test_a_record_replayed_past_the_horizon_takes_a_row_but_is_listed_once() -> None:
    index = FingerprintIndex()
    index.add(image_id(7), PRINT, NOW - 10, None)
    for n in range(REPLAY_HORIZON):
        index.add(image_id(100 + n), PRINT ^ 0xFFFF_FFFF, NOW - 5, None)
    index.add(image_id(7), PRINT, NOW - 10, None)  # e.g. published twice after a redelivery

    found = index.search(PRINT, NOW, None, SearchRule())

    assert len(index) == REPLAY_HORIZON + 2
    assert [(m.image_id, m.distance) for m in found] == [(image_id(7), 0)]


def test_pruning_forgets_photos_before_the_horizon_and_keeps_the_rest_searchable() -> None:
    index = FingerprintIndex(capacity=4)
    # Arrival order is not time order: replicas publish, and partitions replay, interleaved.
    arrivals = [(1, 9 * DAY), (2, 1 * DAY), (3, 8 * DAY), (4, 2 * DAY), (5, 3 * DAY)]
    for n, age in arrivals:
        index.add(image_id(n), PRINT ^ n, NOW - age, Place(52.52, 13.405 + n * 1e-5))

    gone = index.prune(NOW - 7 * DAY)

    assert gone == 2
    assert len(index) == 3
    assert index.prune(NOW - 7 * DAY) == 0
    found = index.search(PRINT, NOW, Place(52.52, 13.405), SearchRule(window_s=30 * DAY))
    # Closest first; among equally close photos, the newest first.
    assert [(m.image_id, m.distance, m.at) for m in found] == [
        (image_id(2), 1, NOW - 1 * DAY),
        (image_id(4), 1, NOW - 2 * DAY),
        (image_id(5), 2, NOW - 3 * DAY),
    ]


def test_capacity_follows_the_rows_down_after_pruning() -> None:
    index = FingerprintIndex()
    for n in range(10_000):
        index.add(image_id(n + 1), PRINT ^ n, NOW - 10 * DAY + n, None)
    index.add(image_id(20_000), PRINT, NOW, None)
    grown = index.capacity

    assert index.prune(NOW - DAY) == 10_000

    assert 10_001 <= grown <= 10_001 * 5 // 4  # grown by quarters: little slack
    assert index.capacity == 1024
    # fingerprint, time, place, id, copy key and its flags; the scan's two block buffers
    assert index.nbytes == 1024 * (8 + 8 + 8 + 16 + 8 + 8) + (1 << 16) * (8 + 1)
    assert [m.image_id for m in index.search(PRINT, NOW, None, SearchRule())] == [image_id(20_000)]


def test_many_copies_list_the_closest_up_to_the_limit_newest_first_among_equals() -> None:
    index = FingerprintIndex()
    for n in range(200):  # one photo sent 200 times: exact copies, but the last few
        index.add(image_id(n), PRINT ^ (0b11 if n >= 195 else 0), NOW - 1000 + n, None)
    index.add(image_id(999), PRINT, NOW + 5, None)  # later than the lookup: never listed

    found = index.search(PRINT, NOW, None, SearchRule(max_distance=16, limit=10))

    assert [m.image_id for m in found] == [image_id(n) for n in range(194, 184, -1)]
    assert {m.distance for m in found} == {0}


def test_a_copy_key_finds_the_latest_photo_added_with_it_through_growth_and_pruning() -> None:
    index = FingerprintIndex(capacity=2)
    index.add(image_id(1), PRINT, NOW - 9 * DAY, None, copy=77)
    index.add(image_id(2), PRINT, NOW - 2 * DAY, None, copy=77)
    index.add(image_id(3), PRINT, NOW - 3 * DAY, None, copy=77)  # read late, submitted earlier
    index.add(image_id(4), PRINT ^ 1, NOW - DAY, None, copy=88)
    index.add(image_id(5), PRINT, NOW, None)  # no key
    assert index.capacity == 5  # grown three times: the keys moved with their rows

    assert index.copy_of(77) == image_id(2)
    assert index.copy_of(88) == image_id(4)
    assert index.copy_of(99) is None

    index.prune(NOW - 2.5 * DAY)
    assert index.copy_of(77) == image_id(2)
    index.prune(NOW - 1.5 * DAY)
    assert (index.copy_of(77), index.copy_of(88)) == (None, image_id(4))


def test_a_copy_key_whose_row_was_pruned_is_not_found_even_with_its_flag_shared() -> None:
    index = FingerprintIndex(capacity=1024)  # 8192 flags: keys 5 and 5 + 8192 share one
    index.add(image_id(1), PRINT, NOW - 5 * DAY, None, copy=5)
    index.add(image_id(2), PRINT, NOW, None, copy=5 + 8192)
    index.add(image_id(3), PRINT, NOW, None)  # no key: flags nothing, clears nothing
    assert (index.copy_of(5), index.copy_of(5 + 8192)) == (image_id(1), image_id(2))

    index.prune(NOW - DAY)
    assert (index.copy_of(5), index.copy_of(5 + 8192)) == (None, image_id(2))
    index.prune(NOW + 1)
    assert index.copy_of(5 + 8192) is None


@pytest.mark.parametrize("block", [1, 3, 4, 1 << 16])
def test_a_scan_in_blocks_finds_what_a_scan_of_the_whole_column_finds(
    monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    monkeypatch.setattr(similar, "_BLOCK", block)
    rng = np.random.default_rng(block)
    index = FingerprintIndex(capacity=2)
    prints = [PRINT ^ int(rng.integers(0, 2**20)) for _ in range(60)]
    for n, value in enumerate(prints):
        index.add(image_id(n + 1), value, NOW - 1000 + n, None, copy=1 + n % 7)
    rule = SearchRule(max_distance=8, limit=100)

    found = index.search(PRINT, NOW, None, rule)

    distances = [(PRINT ^ value).bit_count() for value in prints]
    expected = sorted(
        (d, -n, image_id(n + 1)) for n, d in enumerate(distances) if d <= rule.max_distance
    )
    assert [(m.distance, m.image_id) for m in found] == [(d, i) for d, _n, i in expected]
    assert len(found) >= 3  # the draw plants some close ones
    # The latest row of each key, wherever its block.
    assert [index.copy_of(key) for key in range(1, 8)] == [
        image_id(max(n for n in range(60) if 1 + n % 7 == key) + 1) for key in range(1, 8)
    ]


def test_a_growth_holds_one_new_column_at_a_time_not_a_copy_of_the_index(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(similar, "_BLOCK", 1024)  # the scan's and flags' temporaries: small
    tracemalloc.start()  # before the index is built, so that its old columns' frees count
    try:
        index = FingerprintIndex(capacity=20_000)
        for n in range(20_000):
            index.add(image_id(n + 1), PRINT ^ n, NOW - n, None, copy=n + 1)
        before = index.nbytes
        tracemalloc.reset_peak()
        index.add(image_id(30_000), PRINT, NOW, None, copy=5)  # the 20,001st row: it grows
        grown, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert index.capacity == 25_000
    assert index.nbytes - before == 5_000 * 56  # the quarter more, nothing else kept
    # Beyond what the grown index holds, at most its largest column (the ids, 16 bytes a
    # row) lived twice at once, and one block's temporaries of the flags' rebuild; the old
    # columns were dropped one by one. Making every new column before dropping the old
    # ones would have held 20,000 * 56 bytes more.
    assert peak - grown <= 16 * 25_000 + 17 * 1024 + 8192
