"""Fixtures: the service image (built by deploy/image/verify.sh) deployed against the
session's Kafka and S3 as an API container and two consumer containers."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import httpx
import pytest
from minio import Minio

from civicqc.stack import kafka
from civicqc.stack.context import free_port
from tests.fixtures.services import S3Service
from tests.image.engine import VERIFY, Container, Engine, EngineError

#: Tenants and the profiles they get, as a deployment sets TENANT_PROFILES.
TENANT_PROFILES = {"springfield": "reference"}
#: Where docker-compose.yml mounts the API's keys file (its `api_keys` secret).
KEYS_IN_CONTAINER = "/run/secrets/api_keys"


def _unavailable(error: BaseException | str) -> NoReturn:
    message = f"service image unavailable: {error}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The image, built (or found in the engine's layer cache) by the verification script."""
    try:
        subprocess.run(
            ["bash", str(VERIFY), "build"], capture_output=True, text=True, check=True, timeout=1800
        )
        return Engine.from_verify_script()
    except subprocess.CalledProcessError as error:
        _unavailable(f"{VERIFY.name} build exited {error.returncode}: {error.stderr[-2000:]}")
    except (OSError, subprocess.TimeoutExpired) as error:
        _unavailable(error)


@dataclass(frozen=True)
class Deployment:
    bootstrap_servers: str
    submitted: str
    verdicts: str
    bucket: str
    api_url: str
    api_key: str
    api: Container
    #: (consumer container, its metrics port on 127.0.0.1)
    consumers: list[tuple[Container, int]]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.api_url, headers={"X-API-Key": self.api_key}, timeout=30)


Deploy = Callable[..., Deployment]


def _operator_key(keys_file: Path) -> str:
    """A key made as an operator makes one (`civicqc keys add`), rate-limited for a batch."""
    civicqc = Path(sys.executable).with_name("civicqc")
    added = subprocess.run(
        [
            str(civicqc),
            "keys",
            "--file",
            str(keys_file),
            "add",
            "--tenant",
            "*",
            "--role",
            "operator",
            "--name",
            "image-test",
            "--rate",
            "1000",
            "--burst",
            "1000",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    # As docs/OPERATIONS.md says: the file holds hashes only, and the API's uid 10001 must
    # read it (compose mounts it as it is on the host); `civicqc keys add` keeps the mode.
    keys_file.chmod(0o644)
    return added.stdout.strip()


def _env_file(path: Path, env: dict[str, str]) -> Path:
    path.write_text("".join(f"{name}={value}\n" for name, value in env.items()))
    path.chmod(0o600)
    return path


def api_env(common: dict[str, str]) -> dict[str, str]:
    """docker-compose.yml's api environment; its metrics listener on a free loopback port."""
    return {
        **common,
        "API_KEYS_FILE": KEYS_IN_CONTAINER,
        "METRICS_HOST": "127.0.0.1",
        "METRICS_PORT": "0",
    }


def consumer_env(common: dict[str, str], group: str, metrics_port: int) -> dict[str, str]:
    """docker-compose.yml's consumer environment; metrics on loopback (host network)."""
    return {
        **common,
        "CONSUMER_GROUP": group,
        "WORKER_PROCESSES": "1",  # two replicas on a shared two-core machine
        "MAX_IN_FLIGHT": "8",
        "METRICS_HOST": "127.0.0.1",
        "METRICS_PORT": str(metrics_port),
    }


def common_env(servers: str, s3: S3Service, suffix: str) -> dict[str, str]:
    """docker-compose.yml's x-civicqc-env, pointed at the session's services."""
    return {
        "KAFKA_BOOTSTRAP_SERVERS": servers,
        "TOPIC_SUBMITTED": f"t.image.{suffix}.submitted",
        "TOPIC_VERDICTS": f"t.image.{suffix}.verdicts",
        "TOPIC_DLQ": f"t.image.{suffix}.dlq",
        "S3_ENDPOINT": s3.endpoint,
        "S3_SECURE": "false",
        "S3_REGION": "us-east-1",
        "S3_BUCKET": f"t-image-{suffix}",
        "MAX_CONTENT_LENGTH": "33554432",
        "S3_ACCESS_KEY": s3.access_key,
        "S3_SECRET_KEY": s3.secret_key,
        "RULE_PROFILE": "default",
        "TENANT_PROFILES": json.dumps(TENANT_PROFILES),
        "LOG_LEVEL": "INFO",
    }


@dataclass(frozen=True)
class HostStream:
    """Fresh topics, bucket and API key on the session's Kafka and S3."""

    suffix: str
    #: docker-compose.yml's x-civicqc-env, pointed at them.
    common: dict[str, str]
    keys_file: Path
    api_key: str


@pytest.fixture
def host_stream(
    kafka_bootstrap_servers: str, s3_service: S3Service, s3_client: Minio, tmp_path: Path
) -> Iterator[HostStream]:
    suffix = uuid.uuid4().hex[:10]
    common = common_env(kafka_bootstrap_servers, s3_service, suffix)
    topics = {common["TOPIC_SUBMITTED"]: 6, common["TOPIC_VERDICTS"]: 3, common["TOPIC_DLQ"]: 1}
    kafka.run_sync(kafka.create_topics(kafka_bootstrap_servers, topics))
    s3_client.make_bucket(bucket_name=common["S3_BUCKET"])
    keys_file = tmp_path / "api-keys.json"
    yield HostStream(suffix, common, keys_file, _operator_key(keys_file))
    with contextlib.suppress(Exception):
        kafka.run_sync(kafka.delete_topics(kafka_bootstrap_servers, list(topics)))
    _remove_bucket(s3_client, common["S3_BUCKET"])


@pytest.fixture
def deploy(engine: Engine, host_stream: HostStream, tmp_path: Path) -> Iterator[Deploy]:
    """``deploy(**consumer_env) -> Deployment``: an API container and two consumers."""
    common, suffix = host_stream.common, host_stream.suffix
    started: list[Container] = []

    def start(**consumer_env: str) -> Deployment:
        api, api_url = _start_api(engine, common, host_stream.keys_file, tmp_path, suffix)
        started.append(api)
        consumers: list[tuple[Container, int]] = []
        for replica in range(2):
            consumer, port = _start_consumer(
                engine, common, consumer_env, tmp_path, suffix, replica
            )
            started.append(consumer)
            consumers.append((consumer, port))
        api.wait_healthy(timeout_s=90)
        for consumer, _port in consumers:
            consumer.wait_for_log("partitions assigned", timeout_s=120)
        return Deployment(
            bootstrap_servers=common["KAFKA_BOOTSTRAP_SERVERS"],
            submitted=common["TOPIC_SUBMITTED"],
            verdicts=common["TOPIC_VERDICTS"],
            bucket=common["S3_BUCKET"],
            api_url=api_url,
            api_key=host_stream.api_key,
            api=api,
            consumers=consumers,
        )

    yield start
    for container in started:
        (tmp_path / f"{container.name}.log").write_text(container.logs())
        container.remove()


def _start_api(
    engine: Engine, common: dict[str, str], keys_file: Path, tmp_path: Path, suffix: str
) -> tuple[Container, str]:
    port = free_port()
    api = engine.start(
        f"civicqc-test-{suffix}-api",
        # compose's command, on a free loopback port: the containers share the host's network
        [
            "uvicorn",
            "producer_api.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-server-header",
        ],
        env_file=_env_file(tmp_path / "api.env", api_env(common)),
        health_cmd=f"python /usr/local/bin/civicqc-healthcheck http://127.0.0.1:{port}/healthz",
        volumes=[f"{keys_file}:{KEYS_IN_CONTAINER}:ro"],
    )
    return api, f"http://127.0.0.1:{port}"


def _start_consumer(
    engine: Engine,
    common: dict[str, str],
    overrides: dict[str, str],
    tmp_path: Path,
    suffix: str,
    replica: int,
) -> tuple[Container, int]:
    port = free_port()
    env = consumer_env(common, f"t-image-{suffix}", port) | overrides
    consumer = engine.start(
        f"civicqc-test-{suffix}-consumer-{replica}",
        ["python", "-m", "consumer"],
        env_file=_env_file(tmp_path / f"consumer-{replica}.env", env),
        health_cmd=f"python /usr/local/bin/civicqc-healthcheck http://127.0.0.1:{port}/metrics",
    )
    return consumer, port


def _remove_bucket(s3: Minio, bucket: str) -> None:
    with contextlib.suppress(Exception):
        for obj in s3.list_objects(bucket_name=bucket, recursive=True):
            if obj.object_name is not None:
                s3.remove_object(bucket_name=bucket, object_name=obj.object_name)
        s3.remove_bucket(bucket_name=bucket)


__all__ = ["Deploy", "Deployment", "EngineError", "HostStream", "deploy", "engine", "host_stream"]
