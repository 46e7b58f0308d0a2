"""The summary's tally: windows, de-duplication and eviction, without Kafka."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.schema import Outcome
from producer_api.tally import DAY_S, HOUR_S, VerdictTally

NOW = 1_750_000_000.0


def at(seconds_ago: float) -> datetime:
    return datetime.fromtimestamp(NOW - seconds_ago, tz=UTC)


def test_each_image_counts_once() -> None:
    tally = VerdictTally()
    assert tally.add("a", "t", Outcome.ACCEPTED, at(10), NOW)
    assert not tally.add("a", "t", Outcome.REJECTED, at(5), NOW)
    assert tally.window(NOW, HOUR_S).total == 1


@pytest.mark.parametrize(
    ("seconds_ago", "in_hour", "in_day"),
    [(0, 1, 1), (30 * 60, 1, 1), (2 * HOUR_S, 0, 1), (23 * HOUR_S, 0, 1), (25 * HOUR_S, 0, 0)],
)
def test_windows(seconds_ago: float, in_hour: int, in_day: int) -> None:
    tally = VerdictTally()
    tally.add("a", "t", Outcome.ACCEPTED, at(seconds_ago), NOW)
    assert tally.window(NOW, HOUR_S).total == in_hour
    assert tally.window(NOW, DAY_S).total == in_day


def test_rates_overall_and_per_tenant() -> None:
    tally = VerdictTally()
    for i, (tenant, outcome) in enumerate(
        [
            ("x", Outcome.ACCEPTED),
            ("x", Outcome.REJECTED),
            ("y", Outcome.ERROR),
            ("y", Outcome.ACCEPTED),
        ]
    ):
        tally.add(str(i), tenant, outcome, at(60), NOW)
    day = tally.window(NOW, DAY_S)
    assert (day.total, day.accepted, day.rejected, day.error) == (4, 2, 1, 1)
    assert day.acceptance_rate == 0.5
    assert day.by_tenant["y"].acceptance_rate == 0.5
    assert VerdictTally().window(NOW, DAY_S).acceptance_rate is None


def test_eviction_forgets_old_ids() -> None:
    tally = VerdictTally()
    tally.add("old", "t", Outcome.ACCEPTED, at(DAY_S - 30), NOW)
    later = NOW + 120
    tally.evict(later)
    assert tally.window(later, DAY_S).total == 0
    # Once evicted, the id no longer pins memory (a re-read out of window is ignored).
    assert not tally.add("old", "t", Outcome.ACCEPTED, at(DAY_S - 30), later)
