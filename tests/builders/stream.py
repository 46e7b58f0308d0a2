"""Drive the real stream from a test: submit events, run consumer replicas, read topics.

Submitting writes the object and publishes ``ImageSubmitted`` exactly as the ingest
API does (key layout, sha256, sniffed format), for tests that exercise the consumers
alone. Consumers run as real ``python -m consumer`` processes, so ``kill -9`` and
SIGTERM mean what they mean in production.
"""

from __future__ import annotations

import asyncio
import ctypes
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from minio import Minio
from prometheus_client.parser import text_string_to_metric_families

from core.events import ImageSubmitted, ObjectRef, SubmissionMetadata
from core.formats import sniff_format
from runtime.ids import new_image_id
from runtime.layout import incoming_key

_PR_SET_PDEATHSIG = 1
_CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


@dataclass(frozen=True)
class Stream:
    """One test's private topics, bucket and consumer group on the session's services."""

    bootstrap_servers: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    bucket: str
    submitted: str
    verdicts: str
    dlq: str
    group: str = field(default_factory=lambda: f"t-{uuid.uuid4().hex[:10]}")

    def env(self, **overrides: str) -> dict[str, str]:
        """The settings a consumer replica (or the API) reads, for this stream."""
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "TOPIC_SUBMITTED": self.submitted,
            "TOPIC_VERDICTS": self.verdicts,
            "TOPIC_DLQ": self.dlq,
            "S3_ENDPOINT": self.s3_endpoint,
            "S3_ACCESS_KEY": self.s3_access_key,
            "S3_SECRET_KEY": self.s3_secret_key,
            "S3_SECURE": "false",
            "S3_BUCKET": self.bucket,
            "CONSUMER_GROUP": self.group,
            "WORKER_PROCESSES": "1",
            "METRICS_PORT": "0",
            "KAFKA_SESSION_TIMEOUT_MS": "6000",
            "RETRY_BACKOFF": "0.05",
            "RETRY_BACKOFF_MAX": "0.2",
            "LOG_LEVEL": "INFO",
            **overrides,
        }


def stored_submission(
    s3: Minio, bucket: str, data: bytes, *, tenant: str = "default", image_id: str | None = None
) -> ImageSubmitted:
    """Store ``data`` under ``incoming/`` and return the event the API would publish."""
    image_id = image_id or str(new_image_id())
    now = datetime.now(UTC)
    detected = sniff_format(data)
    fmt = detected.value if detected is not None else "jpeg"
    key = incoming_key(uuid.UUID(image_id), fmt)
    content_type = _CONTENT_TYPES.get(fmt, "application/octet-stream")
    s3.put_object(bucket, key, io.BytesIO(data), len(data), content_type=content_type)
    return ImageSubmitted(
        image_id=image_id,
        submitted_at=now,
        object=ObjectRef(
            bucket=bucket,
            key=key,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            content_type=content_type,
            format=fmt,
        ),
        metadata=SubmissionMetadata(tenant=tenant),
    )


async def publish(servers: str, topic: str, messages: Iterable[tuple[bytes | None, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        sent = [await producer.send(topic, value=value, key=key) for key, value in messages]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def publish_events(servers: str, topic: str, events: Iterable[ImageSubmitted]) -> None:
    messages = [(e.image_id.encode(), e.model_dump_json().encode()) for e in events]
    asyncio.run(publish(servers, topic, messages))


async def read_topic(
    servers: str, topic: str, *, expect: int, timeout_s: float, settle_s: float = 1.0
) -> list[tuple[bytes | None, bytes]]:
    """Every message from the start of ``topic`` until ``expect`` arrived or time ran out,
    then ``settle_s`` more, so duplicates that trail the last new one are seen too."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=servers, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    found: list[tuple[bytes | None, bytes]] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                found.extend((r.key, r.value) for r in records)
            if len(found) >= expect:
                deadline = min(deadline, time.monotonic() + settle_s)
    finally:
        await consumer.stop()
    return found


def read_all(
    servers: str, topic: str, *, expect: int, timeout_s: float, settle_s: float = 1.0
) -> list[tuple[bytes | None, bytes]]:
    return asyncio.run(
        read_topic(servers, topic, expect=expect, timeout_s=timeout_s, settle_s=settle_s)
    )


def civicqc(env: Mapping[str, str], *args: str, timeout_s: float = 60.0) -> str:
    """Run ``civicqc ARGS`` as an operator would, with ``env`` set; its stdout.

    A failing command fails the test with its stderr.
    """
    result = subprocess.run(
        [sys.executable, "-m", "civicqc.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
        env={**os.environ, **env},
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _die_with_parent() -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ApiProcess:
    """``uvicorn producer_api.main:app`` on a free loopback port, owned by the test."""

    def __init__(self, env: Mapping[str, str], log_file: Path, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log_file = log_file
        argv = [sys.executable, "-m", "uvicorn", "producer_api.main:app", "--port", str(port)]
        with log_file.open("ab") as log:
            self.popen = subprocess.Popen(
                [*argv, "--host", "127.0.0.1"],
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        self.client = httpx.Client(base_url=self.url, timeout=30.0)

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            if self.popen.poll() is not None:
                log = self.log_file.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"API exited ({self.popen.returncode}):\n{log}")
            try:
                if self.client.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"API not ready after {timeout_s}s")
            time.sleep(0.2)

    def submit(self, data: bytes, tenant: str = "default") -> str:
        """POST a photo as a raw body; the image id the API assigned."""
        fmt = sniff_format(data)
        content_type = _CONTENT_TYPES.get(fmt.value if fmt else "", "image/jpeg")
        response = self.client.post(
            "/v1/images", content=data, headers={"Content-Type": content_type, "X-Tenant": tenant}
        )
        response.raise_for_status()
        image_id: str = response.json()["id"]
        return image_id

    def stop(self) -> None:
        self.client.close()
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)


class ConsumerProcess:
    """One ``python -m consumer`` replica, owned by the test (signalled by PID only)."""

    def __init__(self, env: Mapping[str, str], log_file: Path) -> None:
        self.log_file = log_file
        with log_file.open("ab") as log:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "consumer"],
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, text: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while text not in self.log():
            if self.popen.poll() is not None:
                raise RuntimeError(
                    f"consumer exited ({self.popen.returncode}):\n{self.log()[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {text!r} after {timeout_s}s:\n{self.log()[-3000:]}")
            time.sleep(0.1)

    def images_scored(self) -> float:
        """The replica's ``civicqc_images_scored_total``, summed, read from its /metrics."""
        return self.metric("civicqc_images_scored", "_total")

    def metric(self, family: str, suffix: str = "") -> float:
        """The sum of a metric family's samples named ``family + suffix``, from /metrics."""
        for line in self.log().splitlines():
            if '"metrics served"' in line:
                port = json.loads(line)["port"]
                break
        else:
            raise RuntimeError("the consumer did not log its metrics port")
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        found = [f for f in text_string_to_metric_families(text) if f.name == family]
        return sum(s.value for f in found for s in f.samples if s.name == family + suffix)

    def terminate(self, timeout_s: float = 30.0) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(timeout=timeout_s)

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)
