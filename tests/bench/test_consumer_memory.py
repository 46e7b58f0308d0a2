"""``bench.consumer_memory`` reads what a real replica and its workers hold."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from bench.consumer_memory import PodSampler, index_room_mib, read_memory
from tests.builders.stream_fixtures import StartConsumer

_MIB = 2**20


def test_read_memory_sees_the_pages_a_process_touches() -> None:
    # A fresh process: this one's allocator may hand back pages earlier tests left resident.
    child = subprocess.Popen(
        [sys.executable, "-c", _TOUCHES_64_MIB],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        assert child.stdout.readline() == "ready\n"
        rss_before, pss_before, _hwm = read_memory(child.pid)
        child.stdin.write("touch\n")
        child.stdin.flush()
        assert child.stdout.readline() == "touched\n"
        rss, pss, hwm = read_memory(child.pid)
        child.stdin.write("free\n")
        child.stdin.flush()
        assert child.stdout.readline() == "freed\n"
        after = read_memory(child.pid)
    finally:
        child.kill()
        child.wait()
    assert rss - rss_before >= 60 * _MIB
    assert pss - pss_before >= 60 * _MIB  # private pages: PSS counts them whole
    assert hwm >= rss
    assert after[0] - rss_before < 8 * _MIB  # freed: gone from RSS ...
    assert after[2] - rss_before >= 60 * _MIB  # ... but not from the high-water mark


#: Waits, writes 64 MiB, waits, frees them, answering each step on stdout.
_TOUCHES_64_MIB = """
import sys
import numpy as np
print("ready", flush=True)
sys.stdin.readline()
block = np.ones(64 << 20, np.uint8)
print("touched", flush=True)
sys.stdin.readline()
del block
print("freed", flush=True)
sys.stdin.readline()
"""


def test_index_room_takes_each_worker_and_its_headroom() -> None:
    assert index_room_mib(2048, 150, [100, 100]) == 1698
    assert index_room_mib(2048, 150, [100, 100], headroom_mib=512) == 674
    assert index_room_mib(2048, 150, [], headroom_mib=512) == 1898


@pytest.mark.integration
def test_sampler_finds_the_replica_and_its_two_workers(start_consumer: StartConsumer) -> None:
    consumer = start_consumer(WORKER_PROCESSES="2")
    sampler = PodSampler(consumer.popen.pid)
    deadline = time.monotonic() + 60
    while len(sampler.workers) < 2 and time.monotonic() < deadline:
        sampler.sample()
        time.sleep(0.2)
    pod = sampler.sample(idle=True)
    workers = sampler.workers
    assert len(workers) == 2
    replica = sampler.processes[consumer.popen.pid]
    assert sampler.name(consumer.popen.pid) == "replica"
    # Each has imported numpy and OpenCV at least: tens of MiB, not a few pages.
    assert all(worker.rss_idle > 30 * _MIB for worker in workers)
    assert replica.rss_idle > 30 * _MIB
    assert pod == sum(memory.pss_idle for memory in sampler.processes.values())
    assert sampler.pod_pss_peak >= pod
