"""Valid containers with hostile fields get a verdict within 2 s and 300 MB above baseline.

Each input is scored in a child process (:mod:`bench.isolated`) that measures its
peak RSS above the worker's baseline and runs under an address-space fuse, so a
regression fails here instead of taking the test runner down. The generators are
:mod:`bench.hostile_inputs`; ``python -m bench.hostile`` runs them for longer.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.hostile_inputs import exif_count_bomb
from bench.isolated import IsolatedScorer, Measurement

MAX_SECONDS = 2.0
MAX_PEAK_MB = 300.0


@pytest.fixture(scope="module")
def scorer() -> Iterator[IsolatedScorer]:
    with IsolatedScorer() as isolated:
        yield isolated


def _within_bounds(measured: Measurement) -> None:
    assert measured.verdict in ("accepted", "rejected", "error"), measured
    assert measured.time_s <= MAX_SECONDS, measured
    assert measured.peak_mb <= MAX_PEAK_MB, measured


def test_issue_11_exif_count_bomb_scores_the_photo_and_ignores_the_entry(
    scorer: IsolatedScorer,
) -> None:
    # piexif built an unpack format from the count and died at 2.2 GB; a broken
    # EXIF entry counts as absent, and the photo's pixels are scored as usual.
    measured = scorer.measure(exif_count_bomb())
    _within_bounds(measured)
    assert measured.verdict != "error"
