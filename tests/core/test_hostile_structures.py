"""Valid containers with hostile fields get a verdict within 2 s and 300 MB above baseline.

Each input is scored in a child process (:mod:`bench.isolated`) that measures its
peak RSS above the worker's baseline and runs under an address-space fuse, so a
regression fails here instead of taking the test runner down. Time is the smaller
of wall and CPU time (the machine running CI is shared). The generators are
:mod:`bench.hostile_inputs`, with fixed seeds; ``python -m bench.hostile`` runs
them for longer with new seeds.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np
import pytest

from bench.hostile import MAX_PEAK_MB, MAX_SECONDS
from bench.hostile_inputs import exif_count_bomb, families
from bench.isolated import IsolatedScorer, Measurement
from core.schema import ErrorCode

SEEDS = (0, 1)
#: Wall-clock guard against a hang that burns no CPU (the bound itself is on
#: ``time_s``); generous, because CI machines are shared.
HANG_S = 20.0


@pytest.fixture(scope="module")
def scorer() -> Iterator[IsolatedScorer]:
    with IsolatedScorer() as isolated:
        yield isolated


def _assert_within_bounds(measured: Measurement, case: str) -> None:
    assert measured.verdict in ("accepted", "rejected", "error"), (case, measured)
    if measured.verdict == "error":
        assert measured.error_code in {code.value for code in ErrorCode}, (case, measured)
    assert measured.time_s <= MAX_SECONDS, (case, measured)
    assert measured.peak_mb <= MAX_PEAK_MB, (case, measured)


def test_issue_11_exif_count_bomb_scores_the_photo_and_ignores_the_entry(
    scorer: IsolatedScorer,
) -> None:
    # piexif built an unpack format from the count and died at 2.2 GB; a broken
    # EXIF entry counts as absent, and the photo's pixels are scored as usual.
    measured = scorer.measure(exif_count_bomb())
    _assert_within_bounds(measured, "exif count bomb")
    assert measured.verdict != "error"


@pytest.mark.parametrize("family", sorted(families()))
def test_every_hostile_generator_gets_a_verdict_within_bounds(
    scorer: IsolatedScorer, family: str
) -> None:
    for name, generate in families()[family].items():
        for seed in SEEDS:
            data = generate(np.random.default_rng(seed))
            measured = scorer.measure(data, timeout_s=HANG_S)
            _assert_within_bounds(measured, f"{family}/{name} seed {seed}")


def test_the_isolated_scorer_sees_a_memory_hog(scorer: IsolatedScorer) -> None:
    # The bound above can fail: a near-limit image inside the decode budget is
    # decoded in full, and its peak is measured, not assumed.
    from bench.hostile_inputs import png_image

    measured = scorer.measure(png_image(6000, 6000, 8, 0))
    assert measured.verdict in ("accepted", "rejected")
    assert 36 <= measured.peak_mb <= MAX_PEAK_MB


def test_the_reference_profiles_full_resolution_checks_stay_within_the_bound() -> None:
    """``reference`` measures every pixel; a 40 MP photo once peaked at 481 MB there (the
    whole-image Laplacian's float64 copies, and the histogram's 64-bit one)."""
    height, width = 5475, 7300
    rng = np.random.default_rng(0)
    rows = np.linspace(0, 200, height, dtype=np.float32)[:, None]
    cols = np.linspace(0, 55, width, dtype=np.float32)[None, :]
    grey = (rows + cols + rng.integers(0, 8, (height, width), dtype=np.uint8)).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR))
    assert ok
    with IsolatedScorer("reference") as reference:
        measured = reference.measure(jpeg.tobytes(), timeout_s=HANG_S)
    assert measured.verdict in ("accepted", "rejected"), measured
    _assert_within_bounds(measured, "40 MP JPEG under reference")
    assert measured.peak_mb >= 40, "a 40 MP photo is measured at full size"
