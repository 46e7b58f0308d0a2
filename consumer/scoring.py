"""The scoring pool: ``core.score`` off the event loop, one event per worker process at a time.

concurrent.futures' ``ProcessPoolExecutor`` does not fit: when one worker dies it
marks the whole pool broken and fails every pending future, so one poison photo
would charge every event in flight. Here each worker runs one task at a time and the
pool knows which event each worker holds. A worker that fails (raises, dies, or
overruns ``task_timeout_s``) costs exactly that event a :class:`WorkerCrashedError`,
which :mod:`consumer.retry` retries a bounded number of times; events waiting for a
worker just wait. The failed worker is replaced in the background, and is kept only
when it answered cleanly without having grown.

Each worker caps its own address space (:mod:`consumer.worker`), so a hostile input
ends in ``MemoryError`` in that worker, never in the replica. Timings and memory
figures come back as data and the parent records them, so metrics never live in a
worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import wait
from multiprocessing.context import SpawnProcess

from consumer.inbox import Inbox
from consumer.worker import Job, Ready, Reply, Scored, Task, TaskFn, score_task, serve
from core import Rules

logger = logging.getLogger(__name__)

__all__ = ["Scored", "ScoringPool", "WorkerCrashedError"]

_CONTEXT = multiprocessing.get_context("spawn")
#: How long a new worker may take to import and load its detectors.
_START_TIMEOUT_S = 300.0
#: A worker's first inbox: a 12 MP phone photo is 3-6 MB; a larger upload gets a larger one.
_INBOX_BYTES = 16 << 20


class WorkerCrashedError(Exception):
    """The worker scoring this event raised, died or overran its time; only this event pays."""


class _WorkerGoneError(Exception):
    """The worker process ended (or was killed for overrunning) before it answered."""


class _Worker:
    """One spawned worker, the pipe to it and its inbox (:mod:`consumer.inbox`). Its
    blocking methods run in the pool's threads."""

    def __init__(self, rulebook: dict[str, Rules], threads: int, headroom: int, fn: TaskFn) -> None:
        self._inbox = Inbox(_INBOX_BYTES)
        self._conn, child = _CONTEXT.Pipe()
        self.process: SpawnProcess = _CONTEXT.Process(
            target=serve,
            args=(child, rulebook, threads, headroom, fn, self._inbox.path),
            daemon=True,
        )
        try:
            self.process.start()
        except BaseException:
            self._conn.close()
            self._inbox.close()
            raise
        finally:
            child.close()
        self.headroom = headroom
        self.baseline_rss = 0

    def await_ready(self) -> None:
        """Block until the worker has loaded (and mapped its inbox); raise when it died instead."""
        try:
            ready = self._receive(_START_TIMEOUT_S)
        finally:
            self._inbox.unlink()
        if not isinstance(ready, Ready):
            raise _WorkerGoneError(f"unexpected greeting {type(ready).__name__}")
        self.baseline_rss = ready.rss_bytes

    def call(self, task: Task, timeout_s: float) -> Reply:
        try:
            if len(task.data) > self._inbox.size:
                self._inbox.close()
                self._inbox = Inbox(len(task.data))
            self._inbox.write(task.data)
            job = Job(self._inbox.path, len(task.data), task.profile, task.image_id, task.shadow)
            self._conn.send(job)
        except OSError as exc:  # a broken pipe (it died between tasks), or no memory left
            raise _WorkerGoneError(f"cannot hand the task over: {exc}") from exc
        try:
            reply = self._receive(timeout_s)
        finally:
            self._inbox.unlink()  # mapped by now, or never will be
        if not isinstance(reply, Reply):
            raise _WorkerGoneError(f"unexpected reply {type(reply).__name__}")
        return reply

    def _receive(self, timeout_s: float) -> object:
        ready = wait([self._conn, self.process.sentinel], timeout=timeout_s)
        if self._conn in ready:
            try:
                return self._conn.recv()
            except (EOFError, OSError):
                pass
        if not ready:
            self.stop()
            raise _WorkerGoneError(f"no answer within {timeout_s:g} s; killed")
        self.process.join(timeout=5)
        raise _WorkerGoneError(f"exited with code {self.process.exitcode}")

    def grew(self, reply: Reply) -> bool:
        """Whether a task left this worker holding much more than it started with."""
        return reply.rss_bytes - self.baseline_rss > self.headroom // 4 > 0

    def stop(self) -> None:
        """Ask it to exit, then make sure: a worker must never outlive its pool."""
        if self.process.is_alive():
            with contextlib.suppress(OSError):
                self._conn.send(None)
            self.process.join(timeout=2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self._conn.close()
        self._inbox.close()


class ScoringPool:
    """``workers`` processes, each scoring one event at a time; knows which are busy."""

    def __init__(
        self,
        workers: int,
        rulebook: dict[str, Rules],
        *,
        cores: int = 0,
        headroom_bytes: int = 0,
        task_timeout_s: float = 60.0,
        task_fn: TaskFn = score_task,
    ) -> None:
        """``rulebook`` holds the profiles events may select; each worker loads the detectors
        they need. ``cores`` (default: ``workers``) is split among the workers' detector
        threads. ``headroom_bytes`` caps each worker's growth (0: no cap)."""
        self.workers = workers
        self._spawn_args = (
            rulebook,
            max(1, (cores or workers) // workers),
            headroom_bytes,
            task_fn,
        )
        self._task_timeout_s = task_timeout_s
        # One thread per worker waits on its pipe, plus one per replacement starting up.
        self._threads = ThreadPoolExecutor(max_workers=2 * workers, thread_name_prefix="scoring")
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: set[_Worker] = set()
        self._starting: set[asyncio.Task[None]] = set()
        self._busy = 0
        self._peak_rss = 0
        self._closed = False

    @property
    def busy(self) -> int:
        return self._busy

    @property
    def peak_rss_bytes(self) -> int:
        """The most resident memory a worker of this pool has reported holding (a worker
        that dies reports nothing: the kernel's OOM killer or the time limit ended it)."""
        return self._peak_rss

    async def start(self) -> None:
        """Start every worker now, so the first events do not pay for imports; a worker
        that cannot load (a missing model) fails the start."""
        await asyncio.gather(*(self._start_worker() for _ in range(self.workers)))

    async def _start_worker(self) -> None:
        worker = _Worker(*self._spawn_args)
        self._all.add(worker)
        try:
            await asyncio.get_running_loop().run_in_executor(self._threads, worker.await_ready)
        except BaseException:
            self._retire(worker)
            raise
        self._idle.put_nowait(worker)

    async def score(
        self, data: bytes, profile: str, image_id: str, shadow: str | None = None
    ) -> Scored:
        """Score on the next free worker, with the candidate profile ``shadow`` too when named;
        :class:`WorkerCrashedError` when that worker failed."""
        worker = await self._idle.get()
        self._busy += 1
        try:
            reply = await asyncio.get_running_loop().run_in_executor(
                self._threads,
                worker.call,
                Task(data, profile, image_id, shadow),
                self._task_timeout_s,
            )
        except _WorkerGoneError as exc:
            self._replace(worker, image_id, str(exc))
            raise WorkerCrashedError(str(exc)) from exc
        except BaseException:  # cancelled (a shutdown gave up waiting): the worker is busy
            self._replace(worker, image_id, "cancelled")
            raise
        finally:
            self._busy -= 1
        self._peak_rss = max(self._peak_rss, reply.peak_rss_bytes)
        return self._settle(worker, reply, image_id)

    def _settle(self, worker: _Worker, reply: Reply, image_id: str) -> Scored:
        if worker.grew(reply):
            self._replace(worker, image_id, f"grew to {reply.rss_bytes} bytes resident")
        else:
            self._idle.put_nowait(worker)
        if reply.scored is None:
            logger.warning("scoring failed", extra={"image_id": image_id, "error": reply.error})
            raise WorkerCrashedError(reply.error or "no result")
        return reply.scored

    def _replace(self, worker: _Worker, image_id: str, why: str) -> None:
        logger.error("replacing a scoring worker", extra={"image_id": image_id, "why": why})
        self._retire(worker)
        task = asyncio.create_task(self._restart())
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    async def _restart(self) -> None:
        """Start a replacement, retrying until one loads: the pool never shrinks for good."""
        delay = 1.0
        while not self._closed:
            try:
                await self._start_worker()
                return
            except Exception as exc:
                logger.error("a scoring worker failed to start", extra={"error": repr(exc)})
                await asyncio.sleep(delay)
                delay = min(30.0, delay * 2)

    def _retire(self, worker: _Worker) -> None:
        self._all.discard(worker)
        if self._closed:
            worker.stop()
        else:
            self._threads.submit(worker.stop)

    def shutdown(self) -> None:
        """Stop every worker (a task still running is killed) and the threads."""
        for task in self._starting:
            task.cancel()
        for worker in list(self._all):
            self._retire(worker)
        self._closed = True
        self._threads.shutdown(wait=True)
