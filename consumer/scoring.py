"""The scoring process pool: ``core.score`` off the event loop, on every core.

Workers are spawned (not forked) once at startup, since the parent already runs an
event loop and I/O threads that a fork would copy in an undefined state. Each worker
receives the rulebook once through the initializer; a task then ships only the image
bytes and the profile name. Timings come back inside the verdict and the parent
records them, so metrics never live in a worker.
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

from core import Rules, Verdict, score

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1

_rulebook: dict[str, Rules] = {}


class WorkerCrashedError(Exception):
    """A scoring process died (killed, or crashed in native code); the pool was replaced."""


def _init_worker(rulebook: dict[str, Rules]) -> None:
    # The parent drains and shuts the pool down on SIGTERM/SIGINT; a signal sent to the
    # whole process group (Ctrl-C, ``kill -- -PGID``) must not kill work in flight.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if sys.platform == "linux":
        # ... but a parent killed with SIGKILL must not leave orphans scoring for nobody.
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    _rulebook.update(rulebook)


def _score(data: bytes, profile: str, image_id: str) -> Verdict:
    return score(data, _rulebook[profile], image_id=image_id)


def _ready() -> bool:
    return bool(_rulebook)


class ScoringPool:
    """A process pool sized to the cores, that knows how many of its workers are busy."""

    def __init__(self, workers: int, rulebook: dict[str, Rules]) -> None:
        self.workers = workers
        self._rulebook = rulebook
        self._busy = 0
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self._rulebook,),
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

    async def score(self, data: bytes, profile: str, image_id: str) -> Verdict:
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
