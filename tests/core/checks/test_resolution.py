"""The resolution floor of the default profile."""

from __future__ import annotations

import pytest

from core import builtin_profile
from core.checks.resolution import resolution_finding

DEFAULT = builtin_profile("default").checks.resolution


@pytest.mark.parametrize(
    ("width", "height", "passed"),
    [
        (800, 600, True),
        (600, 800, True),
        (4032, 3024, True),
        (799, 600, False),
        (1280, 500, False),
        (640, 480, False),
    ],
)
def test_floor_is_800_by_600(width: int, height: int, passed: bool) -> None:
    finding = resolution_finding(width, height, DEFAULT)
    assert finding.passed is passed
    if not passed:
        assert finding.score < DEFAULT.veto_below  # type: ignore[operator]
