"""Task functions for the pool's tests, importable by a spawned worker.

``misbehaving`` does what the bytes say, standing in for inputs that make the
engine die, raise, allocate without bound or hang; anything else scores as empty.
"""

from __future__ import annotations

import hashlib
import os
import signal
import time

import cv2

from consumer.worker import Scored, Task
from core import error_verdict
from core.profiles import builtin_profile
from core.schema import ErrorCode


def misbehaving(task: Task) -> Scored:
    if task.data == b"die":
        os.kill(os.getpid(), signal.SIGKILL)
    if task.data == b"raise":
        raise RuntimeError("the engine had a bug")
    if task.data == b"hog":
        hog = bytearray(4 * 2**30)  # 4 GiB: far above any headroom these tests set
        hog[-1] = 1
    if task.data == b"hang":
        time.sleep(600)
    verdict = error_verdict(ErrorCode.EMPTY, "test", builtin_profile("default"))
    return Scored(verdict.model_copy(update={"image_id": task.image_id}), None)


def digest(task: Task) -> Scored:
    """An error verdict whose message is the SHA-256 of the bytes the worker received."""
    sha = hashlib.sha256(task.data).hexdigest()
    verdict = error_verdict(ErrorCode.EMPTY, sha, builtin_profile("default"))
    return Scored(verdict.model_copy(update={"image_id": task.image_id}), None)


def decoder_threads(task: Task) -> Scored:
    """An error verdict whose message is how many threads OpenCV and libheif may use in
    this worker, ``"opencv/libheif"``."""
    import pillow_heif

    threads = f"{cv2.getNumThreads()}/{pillow_heif.options.DECODE_THREADS}"
    verdict = error_verdict(ErrorCode.EMPTY, threads, builtin_profile("default"))
    return Scored(verdict.model_copy(update={"image_id": task.image_id}), None)
