"""What one consumer replica holds in memory, as deployed, and what its pod has left.

docs/CAPACITY.md sizes the near-duplicate index against the consumer pod's memory
limit (2 GiB in ``deploy/k8s``), which also holds the replica's own process and its
scoring workers. This measures them instead of assuming:

1. Kafka and the object store start, and ``--images`` distinct 12 MP photos are stored
   and announced, as the API would (:func:`bench.drain.preload`): a backlog;
2. one replica starts as the pod runs it: ``WORKER_PROCESSES=2``, the ``default``
   profile, near-duplicate search on, ``MAX_IN_FLIGHT`` as configured;
3. while it drains the backlog, every process of the replica is sampled every
   ``--interval-s``: RSS and PSS (``/proc/PID/smaps_rollup``; PSS counts a page shared by
   several processes, such as a library or a worker's shared-memory inbox, once across
   them, so the PSS of all of them adds up to what the pod holds); the kernel's own
   high-water mark of each process (``VmHWM``) catches peaks between samples;
4. once it is idle again, the same figures at rest.

Then it prints what is left of ``--limit-mib`` for the index, two ways: with each
worker at its observed peak, and with each worker at the most its address-space limit
allows (what it held after loading plus ``WORKER_MEMORY_HEADROOM_MB``, which a hostile
photo may use; :mod:`consumer.worker`).

Usage: ``python -m bench.consumer_memory [--images 120] [--photos 8] [--limit-mib 2048]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

from bench.drain import caught_up, preload
from bench.photos import SOURCES, phone_jpeg
from bench.pipeline import VerdictClock
from civicqc.stack import kafka, object_store
from civicqc.stack.context import free_port
from civicqc.stack.local_stack import LocalStack
from consumer.settings import ConsumerSettings

_MIB = 2**20


@dataclass
class ProcessMemory:
    """One process's memory figures, in bytes."""

    rss_peak: int = 0
    pss_peak: int = 0
    hwm: int = 0
    rss_idle: int = 0
    pss_idle: int = 0


def read_memory(pid: int) -> tuple[int, int, int]:
    """RSS, PSS and the RSS high-water mark of ``pid``, in bytes (Linux ``/proc``)."""
    process = Path(f"/proc/{pid}")
    pss = 0
    for line in (process / "smaps_rollup").read_text(encoding="ascii").splitlines():
        if line.startswith("Pss:"):
            pss = int(line.split()[1]) * 1024
    status = {
        line.split(":")[0]: line.split(":")[1]
        for line in (process / "status").read_text(encoding="ascii").splitlines()
        if ":" in line
    }
    return _kib(status["VmRSS"]), pss, _kib(status["VmHWM"])


def _kib(field: str) -> int:
    return int(field.split()[0]) * 1024


class PodSampler:
    """Samples a replica and its workers; the pod's PSS is their sum at one sample."""

    def __init__(self, replica_pid: int) -> None:
        self._replica = psutil.Process(replica_pid)
        self.processes: dict[int, ProcessMemory] = {}
        self.pod_pss_peak = 0
        self._names: dict[int, str] = {}

    def _pids(self) -> list[int]:
        children = self._replica.children(recursive=True)
        return [self._replica.pid, *(child.pid for child in children)]

    def sample(self, *, idle: bool = False) -> int:
        """Read every process once; the pod's PSS now."""
        total = 0
        for pid in self._pids():
            try:
                rss, pss, hwm = read_memory(pid)
            except (OSError, KeyError, ValueError):  # exited between listing and reading
                continue
            if pid not in self.processes:
                self.processes[pid], self._names[pid] = ProcessMemory(), self._name_of(pid)
            entry = self.processes[pid]
            entry.rss_peak, entry.pss_peak = max(entry.rss_peak, rss), max(entry.pss_peak, pss)
            entry.hwm = max(entry.hwm, hwm)
            if idle:
                entry.rss_idle, entry.pss_idle = rss, pss
            total += pss
        self.pod_pss_peak = max(self.pod_pss_peak, total)
        return total

    def name(self, pid: int) -> str:
        return self._names.get(pid, f"process {pid}")

    def _name_of(self, pid: int) -> str:
        if pid == self._replica.pid:
            return "replica"
        try:
            tracker = "resource_tracker" in " ".join(psutil.Process(pid).cmdline())
        except psutil.Error:
            return f"process {pid}"
        return f"{'mp tracker' if tracker else 'worker'} {pid}"

    @property
    def workers(self) -> list[ProcessMemory]:
        return [m for pid, m in self.processes.items() if self.name(pid).startswith("worker")]


def index_room_mib(
    limit_mib: float, replica_mib: float, worker_mib: list[float], headroom_mib: float = 0.0
) -> float:
    """What a pod of ``limit_mib`` has left once the replica and each worker (plus
    ``headroom_mib`` each, the most its address-space limit lets it add) are held."""
    return limit_mib - replica_mib - sum(worker + headroom_mib for worker in worker_mib)


async def _drain_sampled(
    env: dict[str, str], ids: list[str], interval_s: float, timeout_s: float
) -> tuple[PodSampler, float]:
    clock = VerdictClock(env["KAFKA_BOOTSTRAP_SERVERS"], "images.verdicts")
    await clock.start()
    log = Path(tempfile.gettempdir()) / f"civicqc-memory-consumer-{os.getpid()}.log"
    with log.open("ab") as log_file:
        consumer = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "consumer",
            env={**os.environ, **env, "METRICS_PORT": str(free_port()), "LOG_LEVEL": "WARNING"},
            start_new_session=True,
            stdout=log_file,
            stderr=log_file,
        )
    sampler = PodSampler(consumer.pid)
    try:
        waits = asyncio.gather(*(clock.verdict_at(i, timeout_s) for i in ids))
        started = time.perf_counter()
        while not waits.done():
            sampler.sample()
            await asyncio.wait([waits], timeout=interval_s)
        await waits
        drained_s = time.perf_counter() - started
        await asyncio.sleep(3.0)  # in-flight buffers released, nothing more to fetch
        sampler.sample(idle=True)
    finally:
        await clock.stop()
        os.killpg(consumer.pid, signal.SIGTERM)
        await asyncio.wait_for(consumer.wait(), 60)
    return sampler, drained_s


def _report(sampler: PodSampler, args: argparse.Namespace, headroom_mib: float) -> None:
    print("process          RSS idle  RSS peak  VmHWM     PSS idle  PSS peak   (MiB)")
    for pid, memory in sampler.processes.items():
        figures = (memory.rss_idle, memory.rss_peak, memory.hwm, memory.pss_idle, memory.pss_peak)
        print(f"{sampler.name(pid):<16}" + "".join(f"{value / _MIB:>10.0f}" for value in figures))
    pods = [memory.pss_idle for memory in sampler.processes.values()]
    print(
        f"pod (PSS of all): idle {sum(pods) / _MIB:.0f} MiB, "
        f"peak {sampler.pod_pss_peak / _MIB:.0f} MiB (sampled every {args.interval_s} s)"
    )
    memories = list(sampler.processes.values())
    replica, *others = (max(m.hwm, m.pss_peak) / _MIB for m in memories)
    workers = [max(m.hwm, m.pss_peak) / _MIB for m in sampler.workers]
    replica += sum(others) - sum(workers)  # its helper processes count with it
    observed = index_room_mib(args.limit_mib, replica, workers)
    bounded = index_room_mib(args.limit_mib, replica, workers, headroom_mib)
    print(
        f"left for the near-duplicate index in a {args.limit_mib:.0f} MiB pod: "
        f"{observed:.0f} MiB with each process at its peak here; {bounded:.0f} MiB with "
        f"each worker also holding its {headroom_mib:.0f} MiB of headroom "
        "(WORKER_MEMORY_HEADROOM_MB: a hostile photo's most)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=int, default=120, help="backlog size")
    parser.add_argument("--photos", type=int, default=8, help="distinct 12 MP photos")
    parser.add_argument("--workers", type=int, default=2, help="WORKER_PROCESSES, as the pod")
    parser.add_argument("--limit-mib", type=float, default=2048.0, help="the pod's memory limit")
    parser.add_argument("--interval-s", type=float, default=0.1, help="sampling interval")
    parser.add_argument("--timeout-s", type=float, default=600.0, help="bound of the drain")
    args = parser.parse_args()
    print(f"making {args.photos} 12 MP JPEGs ...", flush=True)
    photos = [phone_jpeg(SOURCES[i % len(SOURCES)], seed=i) for i in range(args.photos)]
    settings = {"WORKER_PROCESSES": str(args.workers), "CONSUMER_GROUP": "civicqc-memory"}
    with tempfile.TemporaryDirectory(prefix="civicqc-memory-") as root:
        stack = LocalStack(
            Path(root),
            services=[kafka.service(), object_store.service()],
            default_ports=False,
            die_with_parent=True,
        )
        try:
            stack.up(lambda _msg: None)
            env = {**stack.env(), **settings}
            asyncio.run(caught_up(env, settings["CONSUMER_GROUP"]))
            ids = asyncio.run(preload(env, photos, args.images))
            print(f"{len(ids)} photos stored and announced; one replica drains them", flush=True)
            sampler, drained_s = asyncio.run(
                _drain_sampled(env, ids, args.interval_s, args.timeout_s)
            )
        finally:
            stack.down(lambda _msg: None)
    headroom = ConsumerSettings.model_fields["worker_memory_headroom_mb"].default
    print(
        f"drained {len(ids)} photos in {drained_s:.1f} s, WORKER_PROCESSES={args.workers}, "
        f"profile default"
    )
    _report(sampler, args, float(headroom))
    print(f"at {datetime.now(UTC):%H:%M} UTC, {os.cpu_count()} cores shared with other work")


if __name__ == "__main__":
    main()
