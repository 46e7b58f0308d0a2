"""The commit point only moves over a contiguous prefix of done offsets."""

from __future__ import annotations

import pytest

from consumer.offsets import PartitionOffsets


def taken(*offsets: int) -> PartitionOffsets:
    tracker = PartitionOffsets()
    for offset in offsets:
        tracker.take(offset)
    return tracker


def test_nothing_to_commit_until_the_first_is_done() -> None:
    tracker = taken(5, 6, 7)
    tracker.done(6)
    tracker.done(7)
    assert tracker.to_commit() is None
    assert tracker.outstanding == 1


def test_out_of_order_done_commits_the_whole_prefix_at_once() -> None:
    tracker = taken(5, 6, 7)
    tracker.done(7)
    tracker.done(5)
    assert tracker.to_commit() == 6
    tracker.done(6)
    assert tracker.to_commit() == 8
    assert tracker.outstanding == 0


def test_gaps_in_offsets_are_fine() -> None:
    # Compacted topics and transaction markers leave holes between offsets.
    tracker = taken(10, 13, 20)
    for offset in (20, 13, 10):
        tracker.done(offset)
    assert tracker.to_commit() == 21


def test_a_committed_offset_is_not_offered_again() -> None:
    tracker = taken(1)
    tracker.done(1)
    tracker.committed(2)
    assert tracker.to_commit() is None
    tracker.take(2)
    tracker.done(2)
    assert tracker.to_commit() == 3


def test_offsets_must_increase() -> None:
    tracker = taken(4)
    with pytest.raises(ValueError, match="not increasing"):
        tracker.take(4)


def test_the_commit_point_of_a_horizon_commit_never_skips_an_event_not_done() -> None:
    tracker = PartitionOffsets()
    assert tracker.commit_point(next_offset=40) == 40, "nothing taken: the next one"
    tracker.take(40)
    tracker.take(41)
    tracker.done(41)
    assert tracker.commit_point(next_offset=42) == 40
    tracker.committed(40)
    assert tracker.to_commit() is None
    tracker.done(40)
    assert tracker.to_commit() == 42
    assert tracker.commit_point(next_offset=42) == 42


def test_an_offset_behind_the_one_committed_is_not_offered() -> None:
    tracker = taken(1, 2)
    tracker.committed(5)  # a horizon commit of a later point got there first
    tracker.done(1)
    assert tracker.to_commit() is None
