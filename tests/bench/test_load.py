"""The CI-sized run of ``bench/load.py``: a short load through the real API and consumer.

The real soak (minutes, higher rates) is ``python -m bench.load`` against
``civicqc stack up``; this one proves the tool works end to end and that a light
load gets every verdict with no errors.
"""

from __future__ import annotations

import asyncio
import io
import os

import pytest

from bench.load import LoadResult, RssSample, run_load
from tests.builders import images
from tests.builders.stream import ApiProcess, Stream, read_all
from tests.builders.stream_fixtures import StartConsumer
from tests.fixtures.services import S3Service

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: ``LOAD_SMOKE_S=300 LOAD_SMOKE_RATE=10 pytest tests/bench -s`` turns this into a soak.
RATE = float(os.environ.get("LOAD_SMOKE_RATE", "8"))
DURATION_S = float(os.environ.get("LOAD_SMOKE_S", "15"))


def _grow_the_fresh_bucket(s3_service: S3Service, bucket: str) -> None:
    """One write to the test's new bucket before the clock starts: SeaweedFS grows volumes
    for a bucket on its first write (about 0.2 s here, seconds on a loaded CI machine), a
    once-per-bucket cost that a city's long-lived bucket never pays again."""
    s3 = s3_service.client()
    s3.put_object(bucket, "warm-up", io.BytesIO(b"x"), 1)
    s3.remove_object(bucket, "warm-up")


def test_short_load_has_no_errors_and_gets_every_verdict(
    stream: Stream, api: ApiProcess, start_consumer: StartConsumer, s3_service: S3Service
) -> None:
    consumer = start_consumer()
    _grow_the_fresh_bucket(s3_service, stream.bucket)
    photos = [
        (images.encode(images.resized(images.real_photo(name), 640, 480)), "image/jpeg")
        for name in ("astronaut", "coffee")
    ]
    result = asyncio.run(
        run_load(
            api.url,
            rate=RATE,
            duration_s=DURATION_S,
            photos=photos,
            watch={"api": api.popen.pid, "consumer": consumer.popen.pid},
            rss_interval_s=0.5,
        )
    )
    report = result.report()
    print(f"\n{report}")
    assert report["requests"] == int(RATE * DURATION_S)
    assert report["error_rate"] == 0.0, report
    assert report["latency_p99_ms"] < 2000, report
    assert report["throughput_per_s"] >= RATE * 0.8, report
    assert set(report["rss"]) == {"api", "consumer"}
    assert not result.rss_grew, report["rss"]
    assert all(entry["samples"] >= 10 for entry in report["rss"].values())
    verdicts = read_all(
        stream.bootstrap_servers, stream.verdicts, expect=len(result.accepted_ids), timeout_s=60
    )
    assert {key.decode() for key, _ in verdicts if key} == set(result.accepted_ids)


def test_rss_growth_is_flagged_only_when_memory_keeps_rising() -> None:
    def series(values: list[int]) -> LoadResult:
        result = LoadResult(rate=1.0, duration_s=1.0)
        result.rss = [RssSample(float(i), "api", v * 1024 * 1024) for i, v in enumerate(values)]
        return result

    assert not series([100] * 4 + [150] + [101] * 11).rss_grew  # warm-up spike
    assert series([100 + 10 * i for i in range(16)]).rss_grew  # a leak
    assert not series([100 + i for i in range(16)]).rss_grew  # 15 MiB is noise
