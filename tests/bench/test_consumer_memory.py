"""``bench.consumer_memory`` reads what a real replica and its workers hold."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from bench.consumer_memory import PodSampler, index_room_mib, read_memory
from tests.builders.stream_fixtures import StartConsumer

_MIB = 2**20


def test_read_memory_sees_pages_this_process_touches() -> None:
    rss_before, pss_before, _hwm = read_memory(os.getpid())
    block = np.ones(64 * _MIB, np.uint8)  # 64 MiB, every page written
    rss, pss, hwm = read_memory(os.getpid())
    assert block[-1] == 1
    assert rss - rss_before >= 60 * _MIB
    assert pss - pss_before >= 60 * _MIB  # private pages: PSS counts them whole
    assert hwm >= rss
    del block
    # The peak outlives the block (the kernel's counters are approximate to a few pages).
    assert read_memory(os.getpid())[2] - rss_before >= 60 * _MIB


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
