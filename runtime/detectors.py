"""Build the detector a profile names, once per worker process.

core is pure and keeps no cache, so loading belongs to the shells: a worker calls
:func:`detector_for` at startup (or on first use) and passes the result to every
:func:`core.score` call. The cache is keyed by what determines the loaded model,
so two profiles naming the same file share one session.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from core.detect import Detector
from core.rules import DetectorRule, Rules

#: Where ultralytics may write its settings file; never the user's home on a worker.
DEFAULT_ULTRALYTICS_CONFIG_DIR = Path(".cache") / "ultralytics"


def detector_for(
    rules: Rules,
    *,
    base_dir: Path | None = None,
    threads: int | None = None,
    config_dir: Path = DEFAULT_ULTRALYTICS_CONFIG_DIR,
) -> Detector | None:
    """The detector ``rules`` need, or ``None`` when the profile runs no detection check.

    A relative ``model`` path is resolved against ``base_dir`` (default: the
    working directory). Raises ``FileNotFoundError`` when the model file is
    missing and ``ImportError`` when the backend's extra is not installed.
    """
    if not rules.detection_enabled or rules.detector is None:
        return None
    path = Path(rules.detector.model)
    if not path.is_absolute():
        path = (base_dir or Path.cwd()) / path
    return _load(rules.detector.backend, path.resolve(), threads, config_dir.resolve())


@functools.cache
def _load(backend: str, path: Path, threads: int | None, config_dir: Path) -> Detector:
    if not path.exists():
        raise FileNotFoundError(
            f"detector model {path} not found; see docs/DETECTION.md (`civicqc models pull`)"
        )
    detector: Detector
    if backend == "onnx":
        from core.detect.onnx_backend import OnnxDetector

        detector = OnnxDetector(path.read_bytes(), threads=threads)
    else:
        from core.detect.ultralytics_backend import UltralyticsDetector

        config_dir.mkdir(parents=True, exist_ok=True)
        detector = UltralyticsDetector(path, config_dir=config_dir)
    # The first inference allocates buffers and costs 10-20x a normal one; pay it
    # here, at worker start, rather than on the first citizen's photo.
    detector.detect([np.zeros((480, 640, 3), np.uint8)], DetectorRule(model=str(path)))
    return detector
