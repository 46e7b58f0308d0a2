"""Score inputs in a child process and measure each one's time and peak memory.

Why a child: a hostile input that slips past the engine's bounds must fail the
measurement (a ``MemoryError`` under the child's address-space fuse, or a dead
child), not take the test runner or the machine down with it. And peak memory
can only be read per input in a process that does nothing else.

How memory is measured: before each input the child resets the kernel's RSS
high-water mark (``/proc/self/clear_refs``, Linux), reads its current RSS as the
baseline, scores, then reads the high-water mark again. ``peak_mb`` is that mark
minus the baseline: what a consumer worker that already holds the engine would
add for this input.

Time is reported twice: wall clock, and CPU time of the whole child (all
threads). On a shared machine wall clock is inflated by other load and CPU time
by a decoder's threads; the engine's own bound is met if either is within it. The
child runs OpenCV and libheif on one thread each, as a consumer worker given one
core does (:func:`consumer.worker.limit_decoder_threads`).

A profile that runs detection (``deploy/profiles/default-privacy.toml``) is scored
as a consumer worker scores it: with its detector, and, when the verdict asks for
one, the redacted copy (:func:`core.redact.redacted_jpeg`), whose time and peak
are measured on their own. The detector's time (``Verdict.timings.detect_ms``) is
left out of ``time_s``: the model always runs on the same 640 px letterbox, so no
input controls it, and it depends on the weights a city deploys.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import resource
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.schema import Verdict

#: Address space the child may add on top of what it holds after warming up: a
#: fuse far above the 300 MB bound, so a regression fails as ``MemoryError``.
FUSE_MB = 1536

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass(frozen=True, slots=True)
class Measurement:
    """One input's outcome: ``verdict`` is accepted/rejected/error, or what went wrong."""

    verdict: str
    error_code: str | None
    wall_s: float
    cpu_s: float
    peak_mb: float
    detect_s: float = 0.0
    """The detector's part of the scoring time (a profile with detection)."""
    copy_s: float = 0.0
    """The smaller of wall and CPU time of the redacted copy; 0 when none was made."""
    copy_peak_mb: float = 0.0
    """Peak RSS above baseline while the redacted copy was made."""

    @property
    def time_s(self) -> float:
        """The smaller of wall and CPU time of scoring, the detector's left out."""
        return min(self.wall_s, self.cpu_s) - self.detect_s


def _status_kb(field: str) -> int:
    for line in _STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} missing from {_STATUS}")


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _serve(conn: Connection, profile: str) -> None:
    """The child's loop: warm up, arm the fuse, then measure each input it is sent."""
    from bench.photos import phone_jpeg
    from consumer.worker import limit_decoder_threads
    from core import score
    from runtime.detectors import detector_for
    from runtime.rulebook import load_profile

    limit_decoder_threads(1)  # as a consumer worker given one core
    rules = load_profile(profile, None)
    detector = detector_for(rules, threads=1)
    score(phone_jpeg("astronaut", 1600, 1200), rules, detector=detector)
    fuse = _status_kb("VmSize") * 1024 + FUSE_MB * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (fuse, fuse))
    conn.send("ready")
    while True:
        try:
            data = conn.recv_bytes()
        except EOFError:  # the parent is done
            return
        baseline_kb = _reset_peak()
        wall, cpu = time.perf_counter(), _cpu_s()
        try:
            verdict = score(data, rules, detector=detector)
            outcome = verdict.verdict.value
            code = verdict.error.code.value if verdict.error is not None else None
        except MemoryError:
            verdict, outcome, code = None, "memory_error", None
        wall, cpu = time.perf_counter() - wall, _cpu_s() - cpu
        peak_mb = (_status_kb("VmHWM") - baseline_kb) / 1024
        detect_s = (verdict.timings.detect_ms or 0.0) / 1000 if verdict else 0.0
        copy = _copy_cost(data, verdict, rules.max_pixels) if verdict else (0.0, 0.0)
        conn.send(Measurement(outcome, code, wall, cpu, peak_mb, detect_s, *copy))


def _reset_peak() -> int:
    """Reset the RSS high-water mark; the RSS now, in KiB (the baseline)."""
    _CLEAR_REFS.write_text("5")
    return _status_kb("VmRSS")


def _copy_cost(data: bytes, verdict: Verdict, max_pixels: int) -> tuple[float, float]:
    """Time and peak MB of the redacted copy a consumer makes for ``verdict``; zeros when none."""
    from core.errors import ImageError
    from core.redact import redacted_jpeg

    if not (verdict.redaction_required and verdict.detections):
        return 0.0, 0.0
    baseline_kb = _reset_peak()
    wall, cpu = time.perf_counter(), _cpu_s()
    # Refused (over the copy's budget) or not, what it cost is what is measured; a
    # MemoryError is the fuse: the parent sees the child die and reports it.
    with contextlib.suppress(ImageError):
        redacted_jpeg(data, verdict.detections, max_pixels=max_pixels)
    took = min(time.perf_counter() - wall, _cpu_s() - cpu)
    return took, (_status_kb("VmHWM") - baseline_kb) / 1024


class IsolatedScorer:
    """A child process that scores inputs one at a time; restarted if an input kills it."""

    def __init__(self, profile: str = "default", *, start_timeout_s: float = 120.0) -> None:
        """``profile``: a built-in profile's name or a profile file's path."""
        self._profile = profile
        self._start_timeout_s = start_timeout_s
        self._context = multiprocessing.get_context("spawn")
        self._child: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None

    def __enter__(self) -> IsolatedScorer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> Connection:
        ours, theirs = self._context.Pipe()
        child = self._context.Process(target=_serve, args=(theirs, self._profile), daemon=True)
        child.start()
        theirs.close()
        try:
            ready = ours.poll(self._start_timeout_s) and ours.recv() == "ready"
        except EOFError:
            ready = False
        if not ready:
            child.kill()
            raise RuntimeError(f"the scoring child did not start (exit code {child.exitcode})")
        self._child, self._conn = child, ours
        return ours

    def measure(self, data: bytes, *, timeout_s: float = 60.0) -> Measurement:
        """Score ``data`` in the child; a child that dies or hangs is reported, then replaced."""
        conn = self._conn or self._start()
        started = time.perf_counter()
        conn.send_bytes(data)
        try:
            if conn.poll(timeout_s):
                result: Measurement = conn.recv()
                return result
            outcome = "timeout"
        except EOFError:
            outcome = "crashed"
        self.close()
        return Measurement(outcome, None, time.perf_counter() - started, float("nan"), float("nan"))

    def measure_all(self, inputs: Iterable[bytes]) -> Iterator[Measurement]:
        for data in inputs:
            yield self.measure(data)

    def close(self) -> None:
        if self._child is not None:
            self._child.kill()
            self._child.join()
        if self._conn is not None:
            self._conn.close()
        self._child, self._conn = None, None
