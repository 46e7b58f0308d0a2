"""Hostile inputs through a consumer's task with detection on: the verdict, then the redacted copy.

The hostile-structure tests score with ``default``, which runs no detector and so never
makes the full-resolution copy. In these cases the detector finds a person
(``deploy/profiles/default-privacy.toml``, the fall model), so a copy is made. Before
the copy's mosaic was softened at a fixed scale, a box over the whole frame made the
HEIF grid overrun the worker's 60 s task limit and the 231-byte progressive JPEGs of
up to 5662 x 5662 take half a minute each.
"""

from __future__ import annotations

import numpy as np
import pytest

from bench.detect_assets import DetectAssets
from bench.hostile import MAX_COPY_PEAK_MB, MAX_PEAK_MB, MAX_SECONDS
from bench.hostile_inputs import families
from bench.isolated import IsolatedScorer
from consumer import worker
from core.detect.onnx_backend import OnnxDetector
from tests.core.detect.conftest import detect_rules

PROFILE = "deploy/profiles/default-privacy.toml"
#: The copy's bound here. Its target, 2 s, is ``bench.hostile``'s to report: these cases
#: take 1.0 to 1.7 s of CPU on an idle machine and one took 2.05 s in a CI run on a loaded
#: one. What this test guards against took 32 s, overran the worker's 60 s or crashed it.
COPY_SECONDS = 2 * MAX_SECONDS
CASES = [
    ("heif", "grid-near-limit", 0),
    ("jpeg", "progressive-full-size", 1),
    ("jpeg", "progressive-full-size", 4),
]


@pytest.mark.usefixtures("onnxruntime_installed")
def test_the_redacted_copy_of_a_hostile_input_stays_within_bounds(assets: DetectAssets) -> None:
    assert assets.fall_onnx.is_file()  # the profile's model, fetched into .cache/models
    with IsolatedScorer(PROFILE) as scorer:
        for family, name, seed in CASES:
            data = families()[family][name](np.random.default_rng(seed))
            measured = scorer.measure(data, timeout_s=30)
            case = f"{family}/{name} seed {seed}: {measured}"
            assert measured.verdict in ("accepted", "rejected"), case
            assert measured.copy_s > 0, f"no copy was made, so nothing was tested: {case}"
            assert measured.time_s <= MAX_SECONDS and measured.peak_mb <= MAX_PEAK_MB, case
            assert measured.copy_s <= COPY_SECONDS, case
            assert measured.copy_peak_mb <= MAX_COPY_PEAK_MB, case


def test_a_copy_that_runs_out_of_memory_costs_the_copy_not_the_verdict(
    fall_onnx: OnnxDetector, assets: DetectAssets, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before, a MemoryError in the copy failed the whole task: the event was retried and
    # dead-lettered although it had been scored. The worker's memory limit is simulated
    # here by the copy raising, as it does when the limit is reached.
    def out_of_memory(*_args: object, **_kwargs: object) -> bytes:
        raise MemoryError

    monkeypatch.setitem(worker._rulebook, "privacy", detect_rules())
    monkeypatch.setitem(worker._detectors, "privacy", fall_onnx)
    monkeypatch.setattr(worker, "redacted_jpeg", out_of_memory)
    scored = worker.score_task(worker.Task(assets.bus.read_bytes(), "privacy", "bus"))
    assert scored.verdict.redaction_required is True
    assert scored.verdict.verdict.value in ("accepted", "rejected")
    assert scored.redacted is None
