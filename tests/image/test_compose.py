"""docker-compose.yml with deploy/compose/host-stack.yml: the project's own services start
from the built image against the session's Kafka and S3, and score what the API takes in.

The compose file's third-party images (Kafka, MinIO, Prometheus, Grafana) can't be pulled
here; the override points the api and consumer services at services on this host's
loopback instead, and ``--no-deps`` leaves the others out.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from civicqc.stack.context import free_port
from tests.builders import images
from tests.image.conftest import HostStream
from tests.image.engine import REPO, Container, Engine
from tests.image.verdicts import civicqc_score, engine_fields, essence

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FILES = ["-f", "docker-compose.yml", "-f", "deploy/compose/host-stack.yml"]


def _compose_env(engine: Engine, stream: HostStream, api_port: int) -> dict[str, str]:
    """What an operator exports before `compose up` (docs/OPERATIONS.md)."""
    common = stream.common
    return {
        **os.environ,
        **engine.env,
        **{name: common[name] for name in ("KAFKA_BOOTSTRAP_SERVERS", "S3_ENDPOINT", "S3_BUCKET")},
        **{name: common[name] for name in ("TOPIC_SUBMITTED", "TOPIC_VERDICTS", "TOPIC_DLQ")},
        "MINIO_ROOT_USER": common["S3_ACCESS_KEY"],
        "MINIO_ROOT_PASSWORD": common["S3_SECRET_KEY"],
        "GRAFANA_ADMIN_PASSWORD": "unused-here",
        "API_KEYS_PATH": str(stream.keys_file),
        "API_PORT": str(api_port),
        "API_METRICS_PORT": str(free_port()),
        "CONSUMER_METRICS_PORT": str(free_port()),
        "CIVICQC_VERSION": engine.image.rsplit(":", 1)[1],
        "WORKER_PROCESSES": "1",
    }


@pytest.fixture
def composed(engine: Engine, host_stream: HostStream) -> Iterator[tuple[str, Container]]:
    """``(API URL, consumer container)`` of `compose up -d --no-deps api consumer`."""
    if not engine.compose:
        pytest.skip(f"no compose command for {engine.command}")
    api_port = free_port()
    env = _compose_env(engine, host_stream, api_port)
    project = ["-p", f"civicqc-test-{host_stream.suffix}"]

    def compose(*args: str) -> None:
        done = engine.call_compose([*project, *FILES, *args], env=env, cwd=REPO)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    try:
        compose("up", "-d", "--no-deps", "api", "consumer")
        api, consumer = (
            engine.compose_container(project[1], service) for service in ("api", "consumer")
        )
        api.wait_healthy(timeout_s=90)
        consumer.wait_for_log("partitions assigned", timeout_s=120)
        consumer.wait_healthy(timeout_s=60)
        yield f"http://127.0.0.1:{api_port}", consumer
    finally:
        compose("down", "-t", "0")


def test_compose_runs_the_services_from_the_image_against_the_host_stack(
    composed: tuple[str, Container], host_stream: HostStream, tmp_path: Path
) -> None:
    api_url, _consumer = composed
    photos = {
        "sharp": images.encode(images.sharp_photo(1280, 960)),
        "blurred": images.encode(images.gaussian_blurred(images.real_photo(), 4.0)),
    }
    headers = {"X-API-Key": host_stream.api_key, "Content-Type": "image/jpeg"}
    with httpx.Client(base_url=api_url, headers=headers, timeout=30) as client:
        ids = {
            name: client.post("/v1/images", content=blob).raise_for_status().json()["id"]
            for name, blob in photos.items()
        }
        verdicts = {name: _verdict(client, image_id) for name, image_id in ids.items()}
    for name, blob in photos.items():
        (tmp_path / f"{name}.jpg").write_bytes(blob)
    expected = civicqc_score(tmp_path, "default")
    for name, verdict in verdicts.items():
        assert essence(engine_fields(verdict)) == essence(expected[f"{name}.jpg"]), name
    assert {name: v["outcome"] for name, v in verdicts.items()} == {
        "sharp": "accepted",
        "blurred": "rejected",
    }


def _verdict(client: httpx.Client, image_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        body = client.get(f"/v2/images/{image_id}").raise_for_status().json()
        if body["status"] != "pending":
            scored: dict[str, Any] = body
            return scored
        time.sleep(0.25)
    raise TimeoutError(f"no verdict for {image_id} within 90s")
