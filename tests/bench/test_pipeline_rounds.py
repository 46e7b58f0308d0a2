"""bench.pipeline's rounds: a stack's rounds add up to one run of all their photos."""

from __future__ import annotations

import pytest

from bench.pipeline import StackFigures, combined


def _round(
    throughput: float, api_ms: float, total_ms: float, p99s: tuple[float, ...]
) -> StackFigures:
    return StackFigures(
        label="after",
        throughput=throughput,
        cpu_ms={"api": api_ms, "total": total_ms},
        marginal_ms={"api": api_ms - 1.0, "total": total_ms - 4.0},
        idle_cores={"api": 0.01, "kafka": 0.05},
        p99s=p99s,
        kafka_jit_ms=throughput / 2,
    )


def test_rounds_of_equal_size_combine_to_their_mean_per_image() -> None:
    rounds = [_round(10.0, 9.0, 150.0, (0.4, 0.6)), _round(12.0, 11.0, 160.0, ())]
    both = combined(rounds)
    assert both.label == "after"
    assert both.throughput == pytest.approx(11.0)
    assert both.cpu_ms == pytest.approx({"api": 10.0, "total": 155.0})
    assert both.marginal_ms == pytest.approx({"api": 9.0, "total": 151.0})
    assert both.idle_cores == pytest.approx({"api": 0.01, "kafka": 0.05})
    assert both.kafka_jit_ms == pytest.approx(5.5)
    assert both.p99s == (0.4, 0.6)  # the latency runs are the first round's


def test_one_round_is_itself() -> None:
    only = _round(9.5, 8.0, 140.0, (0.3,))
    assert combined([only]) == only
