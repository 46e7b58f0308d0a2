"""Proportions with 95 % confidence intervals, for accuracy figures measured on few photos."""

from __future__ import annotations

import math
from dataclasses import dataclass

_Z95 = 1.959963984540054


@dataclass(frozen=True)
class Proportion:
    """``hits`` out of ``total``, with its Wilson score interval."""

    hits: int
    total: int

    @property
    def rate(self) -> float:
        return self.hits / self.total if self.total else float("nan")

    @property
    def interval(self) -> tuple[float, float]:
        """Wilson 95 % interval: unlike the normal one it stays inside [0, 1] near 0 and 1."""
        return wilson(self.hits, self.total)

    def cell(self) -> str:
        """``97.1% (33/34) [84.7-99.5]``: the rate, the counts and the interval, in percent."""
        if not self.total:
            return "-"
        low, high = self.interval
        return (
            f"{100 * self.rate:.1f}% ({self.hits}/{self.total}) [{100 * low:.1f}-{100 * high:.1f}]"
        )


def wilson(hits: int, total: int, z: float = _Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion; (0, 1) when there is no trial."""
    if total <= 0:
        return 0.0, 1.0
    p = hits / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def balanced_accuracy(accept: Proportion, reject: Proportion) -> tuple[float, float, float]:
    """Mean of the two recalls, with an interval from their Wilson bounds (conservative)."""
    (a_low, a_high), (r_low, r_high) = accept.interval, reject.interval
    return (accept.rate + reject.rate) / 2, (a_low + r_low) / 2, (a_high + r_high) / 2
