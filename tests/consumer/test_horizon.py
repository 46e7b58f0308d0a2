"""The horizon committed with a partition's offsets: which events skip the verdict lookup."""

from __future__ import annotations

from aiokafka.structs import TopicPartition

from consumer import horizon
from consumer.claim import Claim
from consumer.horizon import STEP, Horizon


def test_the_horizon_travels_in_the_commit_metadata_and_nothing_else_reads_as_one() -> None:
    assert horizon.decode(horizon.encode(1234)) == 1234
    assert horizon.decode(horizon.encode(0)) == 0
    for other in (None, "", "1234", "civicqc-horizon=", "civicqc-horizon=x", "civicqc-horizon=-5"):
        assert horizon.decode(other) is None, other


def test_events_past_the_horizon_read_are_fresh_and_the_rest_are_not() -> None:
    view = Horizon(100)
    assert not view.fresh(99)
    assert view.fresh(100) and view.fresh(10_000)


def test_a_replica_starts_events_only_below_a_horizon_committed() -> None:
    view = Horizon(100)
    assert view.covers(99) and not view.covers(100)
    ahead = view.ahead_of(100)
    assert ahead == 101 + STEP
    assert not view.covers(100), "announced is not committed"
    view.committed(ahead)
    assert view.covers(100 + STEP) and not view.covers(101 + STEP)
    assert view.fresh_from == 100, "what earlier owners started does not move"


def test_the_announced_horizon_never_moves_back() -> None:
    view = Horizon(0)
    assert view.ahead_of(500) == 501 + STEP
    assert view.ahead_of(10) == 501 + STEP
    view.committed(20)
    assert view.reserved == 20 and view.announced == 501 + STEP


def test_a_claim_knows_no_event_as_fresh_until_its_horizon_is_read() -> None:
    claim = Claim(TopicPartition("t", 0))
    assert not claim.fresh(10**9)
    claim.horizon = Horizon(5)
    assert claim.fresh(5) and not claim.fresh(4)
