"""Apps for the ingest API tests: one with no reachable dependency, one on the real stack."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from minio import Minio
from PIL import Image
from prometheus_client import CollectorRegistry

from civicqc.stack.context import free_port
from producer_api.main import create_app
from producer_api.settings import Settings
from runtime.apikeys import KeyRole, KeysFile, new_key, read_keys, write_keys
from tests.fixtures.services import KafkaService, S3Service


def jpeg_bytes(width: int = 64, height: int = 48, seed: int = 0) -> bytes:
    """A small, real JPEG (noise, so every seed gives different bytes)."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


ORIGIN = "https://report.springfield.example"


class Keys:
    """A keys file and helpers to add keys to it while the app runs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        write_keys(path, KeysFile())

    def add(self, tenant: str, role: KeyRole = KeyRole.TENANT, **limits: float) -> str:
        key, record = new_key(tenant, role, **limits)  # type: ignore[arg-type]
        keys = read_keys(self.path)
        write_keys(self.path, keys.model_copy(update={"keys": [*keys.keys, record]}))
        time.sleep(0.03)  # past API_KEYS_RELOAD_S (0.01 here)
        return key

    def revoke(self, key: str) -> None:
        ident = key.split("_")[1]
        keys = read_keys(self.path)
        kept = [r for r in keys.keys if r.id != ident]
        write_keys(self.path, keys.model_copy(update={"keys": kept}))


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    return Keys(tmp_path / "keys.json")


def secured(settings: Settings, keys: Keys) -> Settings:
    """``settings`` with auth on, ``keys`` as the keys file (re-read quickly) and CORS."""
    return settings.model_copy(
        update={
            "auth_enabled": True,
            "api_keys_file": keys.path,
            "api_keys_reload_s": 0.01,
            "cors_allow_origins": [ORIGIN],
        }
    )


@pytest.fixture
def offline_settings() -> Settings:
    """Dependencies on closed loopback ports: requests that need them get 503 at once."""
    return Settings(
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        s3_endpoint=f"127.0.0.1:{free_port()}",
        max_content_length=64 * 1024,
        metrics_port=0,
    )


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def offline_client(offline_settings: Settings, registry: CollectorRegistry) -> Iterator[TestClient]:
    app = create_app(offline_settings, registry, json_logs=False)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield client


@dataclass
class LiveApi:
    client: TestClient
    settings: Settings
    s3: Minio
    registry: CollectorRegistry

    @property
    def bucket(self) -> str:
        return self.settings.s3_bucket

    def keys(self, prefix: str = "") -> list[str]:
        return sorted(
            str(obj.object_name)
            for obj in self.s3.list_objects(self.bucket, prefix=prefix, recursive=True)
        )

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.client.get("/readyz").status_code != 200:
            if time.monotonic() > deadline:
                raise TimeoutError(f"API not ready: {self.client.get('/readyz').json()}")
            time.sleep(0.2)


@pytest.fixture
def make_live_api(
    kafka_service: KafkaService,
    s3_service: S3Service,
    s3_client: Minio,
    make_bucket: Callable[[], str],
    make_topic: Callable[..., str],
) -> Iterator[Callable[..., LiveApi]]:
    """``make_live_api()``: the API on the session's real Kafka and S3, with its own bucket
    and topics; a second call with ``like=`` gives another replica on the same ones."""
    clients: list[TestClient] = []

    def make(like: LiveApi | None = None) -> LiveApi:
        if like is None:
            settings = Settings(
                kafka_bootstrap_servers=kafka_service.bootstrap_servers,
                s3_endpoint=s3_service.endpoint,
                s3_access_key=s3_service.access_key,
                s3_secret_key=s3_service.secret_key,
                s3_secure=s3_service.secure,
                s3_bucket=make_bucket(),
                topic_submitted=make_topic(3),
                topic_verdicts=make_topic(2),
                metrics_port=0,
            )
        else:
            settings = like.settings
        registry = CollectorRegistry()
        client = TestClient(create_app(settings, registry, json_logs=False))
        client.__enter__()
        clients.append(client)
        live = LiveApi(client, settings, s3_client, registry)
        live.wait_ready()
        return live

    yield make
    for client in reversed(clients):
        client.__exit__(None, None, None)


@pytest.fixture
def live_api(make_live_api: Callable[..., LiveApi]) -> LiveApi:
    return make_live_api()
