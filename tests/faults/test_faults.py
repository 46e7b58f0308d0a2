"""Faults under a live load of uploads: real processes, loopback only, bounded in time.

Each test runs the real API and consumer processes on the session's Kafka and
SeaweedFS, holds ``RATE`` uploads per second through the API (``bench/load.py``'s
client, in a thread), injects one fault mid-load and then checks the promises of
docs/ARCHITECTURE.md "Guarantees":

- every upload answered 202 gets its verdict on the verdict topic (none lost), and
  nothing lands in the dead-letter topic;
- duplicates are what the delivery contract allows: at least once, every copy of an
  image id byte-identical, and only for work in flight or uncommitted at the fault
  (bounded here by ``DUPLICATE_BOUND``);
- while the dependency is down the API answers 503 within ``FAST_S``, never hangs;
- once it is back, uploads get 202 again and the backlog drains, with nobody
  restarting anything but the faulty service.
"""

from __future__ import annotations

import io
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import pytest
import urllib3
from minio import Minio
from minio.error import S3Error

from bench.load import LoadResult, Sample, run_load
from civicqc.stack.context import free_port
from core.events import VerdictEvent
from tests.builders import images
from tests.builders.latency_proxy import LatencyProxy
from tests.builders.stream import ApiProcess, Stream, read_all
from tests.builders.stream_fixtures import StartConsumer
from tests.fixtures.services import S3Service, ServiceControl

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RATE = 5.0
LOAD_S = 30.0
FAULT_AT_S = 5.0
#: Seconds of load that must follow a dependency's return, so recovery is observed. A
#: loaded 2-core machine restarts Kafka in 30 s or more; the load is then extended.
RECOVERY_S = 8.0
#: An answer while a dependency is down must come faster than this (settings promise ~1 s).
FAST_S = 3.0
MAX_IN_FLIGHT = 4
#: Two replicas, each with at most MAX_IN_FLIGHT in flight and a little finished but
#: uncommitted work behind a slow one: what a crash or rebalance may replay.
DUPLICATE_BOUND = 4 * MAX_IN_FLIGHT
#: The consumers wait out object-store outages on their own (docs/ARCHITECTURE.md), so
#: no retry setting is raised here to get through the store's restart.
CONSUMER_ENV = {"MAX_IN_FLIGHT": str(MAX_IN_FLIGHT)}


@cache
def _photos() -> list[tuple[bytes, str]]:
    return [
        (images.encode(images.resized(images.real_photo(name), 640, 480)), "image/jpeg")
        for name in ("astronaut", "coffee", "chelsea")
    ]


class BackgroundLoad:
    """``run_load`` in its own thread, so the test can inject faults meanwhile."""

    def __init__(self, url: str, rate: float = RATE, duration_s: float = LOAD_S) -> None:
        self.result: LoadResult | None = None
        photos = _photos()
        self.started = time.monotonic()
        self._error: BaseException | None = None

        def run() -> None:
            import asyncio

            try:
                self.result = asyncio.run(
                    run_load(url, rate=rate, duration_s=duration_s, photos=photos, timeout_s=20)
                )
            except BaseException as exc:
                self._error = exc

        self._thread = threading.Thread(target=run, name="load", daemon=True)
        self._thread.start()

    def at(self, seconds: float) -> None:
        """Sleep until ``seconds`` into the load."""
        time.sleep(max(0.0, self.started + seconds - time.monotonic()))

    def now_s(self) -> float:
        return time.monotonic() - self.started

    def join(self) -> LoadResult:
        self._thread.join(timeout=LOAD_S + 60)
        if self._error is not None:
            raise self._error
        assert self.result is not None, "the load thread did not finish"
        return self.result


@dataclass(frozen=True)
class Outcome:
    accepted: int
    duplicates: int
    during_fault: list[Sample]


def _timeline(result: LoadResult) -> str:
    """Answers per second of the load, e.g. ``5:202x5 6:202x2,503x3``: for failure messages."""
    by_second: dict[int, list[str]] = defaultdict(list)
    for sample in result.samples:
        by_second[int(sample.sent_s)].append(str(sample.status))
    return " ".join(
        f"{second}:" + ",".join(f"{c}x{codes.count(c)}" for c in sorted(set(codes)))
        for second, codes in sorted(by_second.items())
    )


def _check(
    stream: Stream, result: LoadResult, fault: tuple[float, float], *, expect_503: bool
) -> Outcome:
    """The assertions every fault test shares; returns numbers for the report."""
    print("\n" + _timeline(result))
    ids = result.accepted_ids
    begin, end = fault
    # Answered before the fault: a request sent just before a dependency stops may still
    # be in flight when it goes, and its 503 is the outage's, not a failure of health.
    healthy = [s for s in result.samples if s.sent_s + s.latency_s < begin - 0.5]
    assert healthy and all(s.status == 202 for s in healthy), result.report()
    statuses = {s.status for s in result.samples}
    assert statuses <= {202, 503}, result.report()
    during = [s for s in result.samples if begin <= s.sent_s <= end]
    assert all(s.latency_s < FAST_S for s in during if s.status == 503), result.report()
    if expect_503:
        assert any(s.status == 503 for s in during), result.report()
    last_sent = max(s.sent_s for s in result.samples)
    tail = [s for s in result.samples if s.sent_s > last_sent - 3]
    assert tail and all(s.status == 202 for s in tail), "uploads recover on their own"

    messages = read_all(stream.bootstrap_servers, stream.verdicts, expect=len(ids), timeout_s=120)
    copies: dict[str, list[bytes]] = defaultdict(list)
    for key, value in messages:
        event = VerdictEvent.model_validate_json(value)
        assert key == event.image_id.encode()
        copies[event.image_id].append(value)
    missing = set(ids) - set(copies)
    assert not missing, f"{len(missing)} of {len(ids)} accepted uploads got no verdict"
    assert all(len(set(c)) == 1 for c in copies.values()), "copies of a verdict must be identical"
    duplicates = sum(len(c) - 1 for c in copies.values())
    assert duplicates <= DUPLICATE_BOUND, f"{duplicates} duplicate verdicts"
    dead = read_all(stream.bootstrap_servers, stream.dlq, expect=1, timeout_s=1, settle_s=0)
    assert dead == [], "nothing may be dead-lettered"
    print(
        f"\naccepted {len(ids)}, 503s {sum(s.status == 503 for s in result.samples)}, "
        f"duplicates {duplicates}, fault window {begin:.1f}-{end:.1f}s, slowest 503 "
        f"{max((s.latency_s for s in during if s.status == 503), default=0) * 1000:.0f} ms, "
        f"{result.report()['latency_p50_ms']}/{result.report()['latency_p99_ms']} ms p50/p99"
    )
    return Outcome(len(ids), duplicates, during)


@pytest.fixture
def two_consumers(start_consumer: StartConsumer) -> Callable[..., list[object]]:
    def start(**env: str) -> list[object]:
        return [start_consumer(**{**CONSUMER_ENV, **env}) for _ in range(2)]

    return start


def test_kill_9_of_a_consumer_under_load(
    stream: Stream, api: ApiProcess, start_consumer: StartConsumer
) -> None:
    victim = start_consumer(**CONSUMER_ENV)
    start_consumer(**CONSUMER_ENV)
    load = BackgroundLoad(api.url)
    load.at(FAULT_AT_S)
    victim.kill()
    killed_at = load.now_s()
    result = load.join()
    _check(stream, result, (killed_at, killed_at + 1), expect_503=False)


def _extended(result: LoadResult, url: str) -> LoadResult:
    """``result`` followed by RECOVERY_S more seconds of the same load, on one clock."""
    import asyncio

    more = asyncio.run(
        run_load(url, rate=RATE, duration_s=RECOVERY_S, photos=_photos(), timeout_s=20)
    )
    offset = result.elapsed_s
    shifted = [replace(s, sent_s=s.sent_s + offset) for s in more.samples]
    return replace(result, samples=[*result.samples, *shifted], elapsed_s=offset + more.elapsed_s)


def _outage_under_load(stream: Stream, api: ApiProcess, control: ServiceControl, what: str) -> None:
    """Stop a dependency at FAULT_AT_S into the load, start it again, check the outcome."""
    load = BackgroundLoad(api.url)
    load.at(FAULT_AT_S)
    begin = load.now_s()
    control.stop()
    time.sleep(2)
    control.start()
    end = load.now_s()
    result = load.join()
    if end > LOAD_S - RECOVERY_S:
        result = _extended(result, api.url)
    print(f"{what} down from {begin:.1f}s to {end:.1f}s into the load")
    _check(stream, result, (begin + 0.5, end - 2), expect_503=True)


# Failed once in seven runs, then in both tries on a busy machine: aiokafka had left the
# API's producer out of sequence on one partition, which then refused every upload
# (runtime/producer_renewal.py now replaces such a producer; its tests make that state
# directly). One rerun stays for the live load's timing on a shared machine; the first
# failure still prints its report.
@pytest.mark.flaky(reruns=1)
def test_kafka_broker_restart_under_load(
    stream: Stream,
    api: ApiProcess,
    two_consumers: Callable[..., list[object]],
    kafka_control: ServiceControl,
) -> None:
    two_consumers()
    _outage_under_load(stream, api, kafka_control, "broker")


def _wait_until_new_buckets_take_writes(s3: Minio, timeout_s: float = 90) -> float:
    """Seconds until a fresh bucket takes a write: SeaweedFS answers ListBuckets (its
    health check) before it can grow volumes for a new bucket, and later tests make
    new buckets."""
    started = time.monotonic()
    while True:
        bucket = f"t-probe-{uuid.uuid4().hex[:12]}"
        try:
            s3.make_bucket(bucket)
            s3.put_object(bucket, "probe", io.BytesIO(b"x"), 1)
            s3.remove_object(bucket, "probe")
            s3.remove_bucket(bucket)
            return time.monotonic() - started
        except (S3Error, urllib3.exceptions.HTTPError, OSError):
            if time.monotonic() - started > timeout_s:
                raise
            time.sleep(1)


def test_object_store_stop_and_start_under_load(
    stream: Stream,
    api: ApiProcess,
    two_consumers: Callable[..., list[object]],
    object_store_control: ServiceControl,
    s3_service: S3Service,
) -> None:
    two_consumers()
    _outage_under_load(stream, api, object_store_control, "object store")
    # Not an assertion about civicqc: leaves the session's store fit for the next tests.
    took = _wait_until_new_buckets_take_writes(s3_service.client(), timeout_s=90)
    print(f"new buckets writable {took:.1f}s after the load")


@pytest.fixture
def slow_store(stream: Stream) -> Iterator[LatencyProxy]:
    host, port = stream.s3_endpoint.rsplit(":", 1)
    proxy = LatencyProxy(host, int(port)).start()
    yield proxy
    proxy.stop()


def test_slow_object_storage_under_load(
    stream: Stream,
    slow_store: LatencyProxy,
    two_consumers: Callable[..., list[object]],
    tmp_path: Path,
) -> None:
    # API and consumers reach the store only through the proxy.
    two_consumers(S3_ENDPOINT=slow_store.endpoint)
    api = ApiProcess(stream.env(S3_ENDPOINT=slow_store.endpoint), tmp_path / "api.log", free_port())
    try:
        api.wait_ready(timeout_s=60)
        load = BackgroundLoad(api.url)
        load.at(FAULT_AT_S)
        slow_store.delay_s = 0.15  # 300 ms more per round trip
        load.at(LOAD_S - 5)
        slow_store.delay_s = 0.0
        result = load.join()
    finally:
        api.stop()
    outcome = _check(stream, result, (FAULT_AT_S, LOAD_S - 5), expect_503=False)
    slowed = [s.latency_s for s in outcome.during_fault if s.status == 202]
    assert slowed and max(slowed) < 10, "slow storage slows uploads down, it does not hang them"
