"""What runs inside one scoring process: ``core.score`` on one event at a time, within limits.

A worker is spawned (not forked: the parent already runs an event loop and I/O
threads that a fork would copy in an undefined state). It loads the rulebook and the
detector of every profile that runs detection once, then caps its own address space
at what it holds after loading plus ``headroom_bytes`` (``RLIMIT_AS``). A hostile
input that makes the engine or a library allocate without bound then fails with
``MemoryError`` inside this process instead of taking the replica, or the node, down.

The worker answers every task with a :class:`Reply`. Whatever the task raises,
``MemoryError`` included, becomes a failed reply: the parent charges that one event
and decides whether to keep this process (:mod:`consumer.scoring`). A death (a
native crash, the kernel's OOM killer) shows up to the parent as a closed pipe.
"""

from __future__ import annotations

import contextlib
import ctypes
import resource
import signal
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import NamedTuple

import cv2

from consumer.inbox import InboxReader
from core import Rules, Verdict, score, score_pair
from core.detect import Detector
from core.errors import ImageError
from core.redact import redacted_jpeg
from runtime.detectors import detector_for

_PR_SET_PDEATHSIG = 1
#: glibc's mallopt(M_ARENA_MAX): each malloc arena reserves 64 MiB of address space,
#: which would otherwise count against RLIMIT_AS once OpenCV or onnxruntime threads start.
_M_ARENA_MAX = -8

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
    shadow: Verdict | None = None
    """The candidate profile's verdict, when the task named one and it scored."""
    shadow_error: str | None = None
    """``Type: message`` of what scoring with the candidate raised; the live verdict stands."""


class Task(NamedTuple):
    """One event's scoring work, as it crosses the pipe."""

    data: bytes
    """The submitted bytes."""
    profile: str
    """The rulebook profile to score with."""
    image_id: str
    """The event's image id, recorded in the verdict."""
    shadow: str | None = None
    """A candidate profile to score with too, on the same decode (shadow scoring)."""


class Job(NamedTuple):
    """A task as it crosses the pipe: its bytes wait in the worker's inbox (:mod:`consumer.inbox`)."""

    inbox: str
    """The path of the inbox that holds the bytes (the one mapped at start, or a larger one)."""
    size: int
    """How many bytes of it are the submitted photo."""
    profile: str
    image_id: str
    shadow: str | None = None


class Reply(NamedTuple):
    """A worker's answer to one task."""

    scored: Scored | None
    """The result; ``None`` when the task failed."""
    error: str | None
    """``Type: message`` of what the task raised, when it failed."""
    rss_bytes: int
    """This process's resident memory after the task."""
    peak_rss_bytes: int
    """The most resident memory this process has held so far."""


class Ready(NamedTuple):
    """A worker's first message: loaded and limited."""

    rss_bytes: int
    """Resident memory after loading: the baseline its tasks are measured against."""


#: A task function: module-level, so a spawned worker can import it by name.
TaskFn = Callable[[Task], Scored]


def score_task(task: Task) -> Scored:
    """The production task: the verdict and, when it asks for one, the redacted copy."""
    rules = _rulebook[task.profile]
    verdict, shadow, shadow_error = _verdicts(task, rules)
    redacted = None
    if verdict.redaction_required and verdict.detections:
        # A second, full-resolution decode on purpose: scoring decoded a reduced draft,
        # and the published copy must keep the original's detail outside the boxes.
        try:
            redacted = redacted_jpeg(task.data, verdict.detections, max_pixels=rules.max_pixels)
        # Refused (a copy over its budget), or out of the worker's memory all the same:
        # the verdict stands without a copy and the parent logs it. Losing the verdict
        # for the copy would dead-letter a photo that was scored.
        except (ImageError, MemoryError):
            redacted = None
    return Scored(verdict, redacted, shadow, shadow_error)


def _verdicts(task: Task, rules: Rules) -> tuple[Verdict, Verdict | None, str | None]:
    """The live verdict and, when the task names a candidate, the candidate's (or why not)."""
    detector = _detectors.get(task.profile)
    if task.shadow is None:
        return score(task.data, rules, image_id=task.image_id, detector=detector), None, None
    try:
        live, shadow = score_pair(
            task.data,
            rules,
            _rulebook[task.shadow],
            image_id=task.image_id,
            detector=detector,
            candidate_detector=_detectors.get(task.shadow),
        )
    # A candidate's failure must not cost the live verdict: score it alone. Were the
    # live profile at fault, this raises again and the task fails as it always did.
    except Exception as exc:
        live = score(task.data, rules, image_id=task.image_id, detector=detector)
        return live, None, f"{type(exc).__name__}: {exc}"[:500]
    return live, shadow, None


def serve(
    conn: Connection,
    rulebook: dict[str, Rules],
    threads: int,
    headroom_bytes: int,
    task_fn: TaskFn,
    inbox: str,
) -> None:
    """The worker process: load, map its inbox, limit itself, say ready, then answer
    tasks until EOF."""
    _load(rulebook, threads)
    reader = InboxReader()
    reader.read(inbox, 0)  # mapped before the limit: the inbox is not the task's to pay for
    _limit_address_space(headroom_bytes)
    conn.send(Ready(_rss_bytes()))
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        conn.send(_run(task_fn, job, reader))


def _run(task_fn: TaskFn, job: Job, inbox: InboxReader) -> Reply:
    try:
        task = Task(inbox.read(job.inbox, job.size), job.profile, job.image_id, job.shadow)
        scored: Scored | None = task_fn(task)
        error = None
    # Any failure, MemoryError included, costs only this event: the parent charges it.
    except BaseException as exc:
        scored, error = None, f"{type(exc).__name__}: {exc}"[:500]
    return Reply(scored, error, *_memory())


def _load(rulebook: dict[str, Rules], threads: int) -> None:
    # The parent drains and shuts the pool down on SIGTERM/SIGINT; a signal sent to the
    # whole process group (Ctrl-C, ``kill -- -PGID``) must not kill work in flight.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if sys.platform == "linux":
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        # ... but a parent killed with SIGKILL must not leave orphans scoring for nobody.
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        libc.mallopt(_M_ARENA_MAX, 2)
    limit_decoder_threads(threads)
    _rulebook.update(rulebook)
    # A missing model or backend raises here, before the worker says it is ready: the
    # pool fails at startup, loudly, rather than on every event.
    for name, rules in rulebook.items():
        detector = detector_for(rules, threads=threads)
        if detector is not None:
            _detectors[name] = detector


def limit_decoder_threads(threads: int) -> None:
    """Give OpenCV's pool and libheif's decoder ``threads`` threads each in this process.

    One worker per core scores in parallel already: OpenCV's pool of a thread per core,
    and libheif's four threads per grid image (pillow_heif's default), would only make
    the workers compete, and each libheif thread holds a decoder context and a stack of
    its own (two workers scoring 12 MP iPhone photos side by side peaked at 158-172 MB
    each on four threads, 150 MB on one, at the same CPU per photo). Neither changes a
    pixel. A lone iPhone photo on an idle replica is slower for it (0.44-0.61 s against
    0.32-0.43 s); under load, which replicas are sized for, the threads only compete.
    """
    import pillow_heif  # here, not with the module: the replica imports this one too

    cv2.setNumThreads(threads)
    pillow_heif.options.DECODE_THREADS = threads


def _limit_address_space(headroom_bytes: int) -> int | None:
    """Cap this process at its current address space plus ``headroom_bytes``; the cap."""
    if headroom_bytes <= 0:
        return None
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _vm_bytes("VmSize") + headroom_bytes
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    return limit


def _vm_bytes(field: str) -> int:
    return _vm_fields(field)[0]


def _vm_fields(*fields: str) -> list[int]:
    """Those lines of ``/proc/self/status``, in bytes (0 where absent): one read for all."""
    found = dict.fromkeys(fields, 0)
    with open("/proc/self/status", encoding="ascii") as status:  # noqa: PTH123
        for line in status:
            name, _colon, rest = line.partition(":")
            if name in found:
                found[name] = int(rest.split()[0]) * 1024
    return [found[field] for field in fields]


def _rss_bytes() -> int:
    return _memory()[0]


def _memory() -> tuple[int, int]:
    """Resident memory now and at its highest so far (0, 0 when unreadable).

    VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss across fork and exec, so
    a spawned worker would report its parent's size at spawn time.
    """
    with contextlib.suppress(OSError, ValueError, IndexError):
        rss, peak = _vm_fields("VmRSS", "VmHWM")
        return rss, peak
    return 0, 0
