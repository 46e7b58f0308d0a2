"""The scoring process pool: ``core.score`` off the event loop, on every core.

Workers are spawned (not forked) once at startup, since the parent already runs an
event loop and I/O threads that a fork would copy in an undefined state. Each worker
receives the rulebook once through the initializer and loads the detector of every
profile that runs detection there, once per process (:func:`runtime.detectors.detector_for`,
as ``civicqc score`` does); a task then ships only the image bytes and the profile
name. When a verdict says ``redaction_required``, the same task renders the redacted
copy (:func:`core.redact.redacted_jpeg`), so the bytes cross to the worker once.
Timings come back inside the verdict and the parent records them, so metrics never
live in a worker.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import NamedTuple

from core import Rules, Verdict, score
from core.detect import Detector
from core.errors import ImageError
from core.redact import redacted_jpeg
from runtime.detectors import detector_for

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1

_rulebook: dict[str, Rules] = {}
#: Profile name -> its detector, for the profiles that run detection; loaded once per worker.
_detectors: dict[str, Detector] = {}


class Scored(NamedTuple):
    """What one scoring task returns to the parent."""

    verdict: Verdict
    """The engine's verdict."""
    redacted: bytes | None
    """A JPEG with the verdict's ``redact`` boxes pixelated and no EXIF, when the verdict
    says ``redaction_required``; ``None`` otherwise, or when it could not be rendered."""


class WorkerCrashedError(Exception):
    """A scoring process died (killed, or crashed in native code); the pool was replaced."""


def _init_worker(rulebook: dict[str, Rules], detector_threads: int) -> None:
    # The parent drains and shuts the pool down on SIGTERM/SIGINT; a signal sent to the
    # whole process group (Ctrl-C, ``kill -- -PGID``) must not kill work in flight.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if sys.platform == "linux":
        # ... but a parent killed with SIGKILL must not leave orphans scoring for nobody.
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    _rulebook.update(rulebook)
    # A missing model or backend raises here, which breaks the pool at startup: loudly,
    # before any event is taken, rather than on every event.
    for name, rules in rulebook.items():
        detector = detector_for(rules, threads=detector_threads)
        if detector is not None:
            _detectors[name] = detector


def _score(data: bytes, profile: str, image_id: str) -> Scored:
    rules = _rulebook[profile]
    verdict = score(data, rules, image_id=image_id, detector=_detectors.get(profile))
    redacted = None
    if verdict.redaction_required and verdict.detections:
        # A second, full-resolution decode on purpose: scoring decoded a reduced draft,
        # and the published copy must keep the original's detail outside the boxes.
        try:
            redacted = redacted_jpeg(data, verdict.detections, max_pixels=rules.max_pixels)
        except ImageError:
            # Scoring decoded the photo, so this is all but impossible; the verdict
            # then stands without a copy and the parent logs it.
            redacted = None
    return Scored(verdict, redacted)


def _ready() -> bool:
    return bool(_rulebook)


class ScoringPool:
    """A process pool sized to the cores, that knows how many of its workers are busy."""

    def __init__(self, workers: int, rulebook: dict[str, Rules], *, cores: int = 0) -> None:
        """``rulebook`` holds the profiles events may select; each worker loads the detectors
        they need. ``cores`` (default: ``workers``) is split among the workers' detector threads."""
        self.workers = workers
        self._rulebook = rulebook
        self._detector_threads = max(1, (cores or workers) // workers)
        self._busy = 0
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self._rulebook, self._detector_threads),
        )

    @property
    def busy(self) -> int:
        return min(self._busy, self.workers)

    async def start(self) -> None:
        """Start every worker now, so the first events do not pay for imports."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(self._executor, _ready) for _ in range(self.workers))
        )

    async def score(self, data: bytes, profile: str, image_id: str) -> Scored:
        executor = self._executor
        self._busy += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(
                executor, _score, data, profile, image_id
            )
        except BrokenProcessPool as exc:
            if executor is self._executor:
                logger.error(
                    "scoring worker died; replacing the pool", extra={"image_id": image_id}
                )
                self._executor = self._new_executor()
                executor.shutdown(wait=False, cancel_futures=True)
            raise WorkerCrashedError(str(exc)) from exc
        finally:
            self._busy -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
