"""The checks. Each module holds one pure function ``<name>_finding(..., rule) -> Finding``.

A check measures and judges; weighting, vetoes and timing are the engine's job
(:mod:`core.engine`), so each check stays a small function that is easy to test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.schema import Scalar


@dataclass(frozen=True, slots=True)
class Finding:
    """What one check concluded. ``score`` is 0-100: 100 when passed, partial credit otherwise."""

    passed: bool
    score: float
    values: Mapping[str, Scalar]
    thresholds: Mapping[str, Scalar]
    reason_code: str
    reason: str
    recommendation: str | None = None
