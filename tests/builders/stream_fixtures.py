"""Fixtures for tests that run the stream: imported by ``tests/consumer`` and ``tests/e2e``."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from minio.error import S3Error

from civicqc.stack import kafka
from civicqc.stack.context import free_port
from tests.builders.stream import ApiProcess, ConsumerProcess, Stream
from tests.fixtures.services import S3Service

StartConsumer = Callable[..., ConsumerProcess]


@pytest.fixture
def stream(
    kafka_bootstrap_servers: str,
    s3_service: S3Service,
    make_topic: Callable[..., str],
    make_bucket: Callable[[], str],
) -> Stream:
    """Fresh topics (six partitions in, as the stack makes them), a fresh bucket and group."""
    return Stream(
        bootstrap_servers=kafka_bootstrap_servers,
        s3_endpoint=s3_service.endpoint,
        s3_access_key=s3_service.access_key,
        s3_secret_key=s3_service.secret_key,
        bucket=make_bucket(),
        submitted=make_topic(6),
        verdicts=make_topic(3),
        dlq=make_topic(1),
    )


@pytest.fixture
def start_consumer(stream: Stream, tmp_path: Path) -> Iterator[StartConsumer]:
    """``start_consumer(**env) -> ConsumerProcess``, already in its group; all stopped after."""
    started: list[ConsumerProcess] = []

    def start(**env: str) -> ConsumerProcess:
        process = ConsumerProcess(stream.env(**env), tmp_path / f"consumer-{len(started)}.log")
        started.append(process)
        process.wait_for_log("partitions assigned", timeout_s=60)
        return process

    yield start
    for process in started:
        if process.popen.poll() is None:
            process.kill()


@pytest.fixture
def api(stream: Stream, tmp_path: Path) -> Iterator[ApiProcess]:
    """The ingest API on this stream's topics and bucket, ready to take uploads."""
    # Authentication and rate limits have their own tests; here they would only throttle.
    env = stream.env(AUTH_ENABLED="false", RATE_LIMIT_PER_S="10000", RATE_LIMIT_BURST="10000")
    process = ApiProcess(env, tmp_path / "api.log", free_port())
    try:
        process.wait_ready(timeout_s=60)
        yield process
    finally:
        process.stop()


@contextlib.contextmanager
def private_stream(name: str, bootstrap_servers: str, s3_service: S3Service) -> Iterator[Stream]:
    """Topics and a bucket of a whole test module, deleted after (the fixtures' are per test)."""
    suffix = uuid.uuid4().hex[:10]
    topics = {f"t.{name}.{part}.{suffix}": n for part, n in (("in", 3), ("out", 1), ("dlq", 1))}
    submitted, verdicts, dlq = topics
    bucket = f"t-{name}-{suffix}"
    kafka.run_sync(kafka.create_topics(bootstrap_servers, topics))
    s3 = s3_service.client()
    s3.make_bucket(bucket_name=bucket)
    try:
        yield Stream(
            bootstrap_servers=bootstrap_servers,
            s3_endpoint=s3_service.endpoint,
            s3_access_key=s3_service.access_key,
            s3_secret_key=s3_service.secret_key,
            bucket=bucket,
            submitted=submitted,
            verdicts=verdicts,
            dlq=dlq,
        )
    finally:
        with contextlib.suppress(Exception):
            kafka.run_sync(kafka.delete_topics(bootstrap_servers, list(topics)))
        with contextlib.suppress(S3Error):
            for obj in s3.list_objects(bucket_name=bucket, recursive=True):
                if obj.object_name is not None:
                    s3.remove_object(bucket_name=bucket, object_name=obj.object_name)
            s3.remove_bucket(bucket_name=bucket)


@contextlib.contextmanager
def running_site(
    name: str, bootstrap_servers: str, s3_service: S3Service, logs: Path, **api_env: str
) -> Iterator[ApiProcess]:
    """The API and one consumer on a :func:`private_stream`, for a whole test module.

    Modules whose tests only read answers share one stack, so they pay the
    consumer's start-up once.
    """
    with private_stream(name, bootstrap_servers, s3_service) as stream:
        consumer = ConsumerProcess(stream.env(), logs / "consumer.log")
        api = ApiProcess(stream.env(AUTH_ENABLED="false", **api_env), logs / "api.log", free_port())
        try:
            api.wait_ready(timeout_s=60)
            consumer.wait_for_log("partitions assigned", timeout_s=60)
            yield api
        finally:
            api.stop()
            consumer.terminate()
