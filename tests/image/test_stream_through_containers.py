"""The stream through containers of the service image: an API container and two consumer
containers, started as docker-compose.yml starts them, against the session's Kafka and S3.

Photos go in through the API container's HTTP port; verdicts come out of the consumer
containers on the verdicts topic and must equal what ``civicqc score`` says of the same
bytes. SIGTERM to a consumer container must drain, commit and exit 0, as the process does.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from core.events import VerdictEvent
from core.formats import sniff_format
from tests.builders import images
from tests.builders.stream import read_all
from tests.e2e.photos import distinct_photos
from tests.fixtures.services import S3Service
from tests.image.conftest import (
    TENANT_PROFILES,
    Deploy,
    Deployment,
    api_env,
    common_env,
    consumer_env,
)
from tests.image.engine import REPO, Engine
from tests.image.verdicts import civicqc_score, engine_fields, essence

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _upload(deployment: Deployment, blob: bytes, tenant: str) -> str:
    fmt = sniff_format(blob)
    content_type = f"image/{fmt.value}" if fmt is not None else "image/jpeg"
    with deployment.client() as client:
        answer = client.post(
            "/v1/images", content=blob, headers={"Content-Type": content_type, "X-Tenant": tenant}
        )
    assert answer.status_code == 202, answer.text
    image_id: str = answer.json()["id"]
    return image_id


def _upload_all(
    deployment: Deployment, blobs: list[bytes], tenants: list[str], workers: int = 4
) -> list[str]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda b, t: _upload(deployment, b, t), blobs, tenants))


def _verdict_events(deployment: Deployment, expect: int) -> list[VerdictEvent]:
    found = read_all(
        deployment.bootstrap_servers, deployment.verdicts, expect=expect, timeout_s=180
    )
    return [VerdictEvent.model_validate_json(value) for _key, value in found]


def _scored(port: int) -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "civicqc_images_scored"
        for sample in family.samples
        if sample.name.endswith("_total")
    )


def test_the_image_keeps_its_healthcheck_and_user(engine: Engine) -> None:
    test = engine.run(
        "image", "inspect", "--format", "{{json .Config.Healthcheck.Test}}", engine.image
    )
    assert "http://127.0.0.1:8000/healthz" in test
    assert engine.run("image", "inspect", "--format", "{{.Config.User}}", engine.image) == (
        "10001:10001"
    )


def test_the_image_holds_the_services_and_not_the_cli_tests_or_pip(engine: Engine) -> None:
    probe = (
        "import importlib.util as u, producer_api.main, consumer.main, runtime, core; "
        "print(sorted(m for m in ('civicqc', 'tests', 'bench', 'pip', 'torch') if u.find_spec(m)))"
    )
    found = engine.run(
        "run", "--rm", "--no-healthcheck", "--network", "none", engine.image, "python", "-c", probe
    )
    assert found == "[]"


def test_the_containers_get_every_setting_compose_gives_the_services() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    s3 = S3Service("127.0.0.1:1", "key", "secret", secure=False, source="test")
    common = common_env("127.0.0.1:1", s3, "x")
    assert set(compose["api"]["environment"]) <= set(api_env(common))
    assert set(compose["consumer"]["environment"]) <= set(consumer_env(common, "group", 1))


def test_uploads_to_the_api_container_get_the_verdicts_ofcivicqc_score(
    deploy: Deploy, tmp_path: Path
) -> None:
    deployment = deploy()
    photos = [*distinct_photos(), distinct_photos()[0][:3000]]  # the last one is cut short
    tenants = ["springfield" if i % 2 else "default" for i in range(len(photos))]
    ids = _upload_all(deployment, photos, tenants)

    events = {e.image_id: e for e in _verdict_events(deployment, expect=len(ids))}

    assert set(events) == set(ids)
    expected: dict[str, dict[str, Any]] = {}
    for tenant in ("default", "springfield"):
        folder = tmp_path / tenant
        folder.mkdir()
        for i, (blob, owner) in enumerate(zip(photos, tenants, strict=True)):
            if owner == tenant:
                (folder / f"{ids[i]}.img").write_bytes(blob)
        profile = TENANT_PROFILES.get(tenant, "default")
        expected |= {
            name.removesuffix(".img"): v for name, v in civicqc_score(folder, profile).items()
        }
    for image_id, tenant in zip(ids, tenants, strict=True):
        event = events[image_id]
        assert event.metadata.tenant == tenant
        got = engine_fields(event.model_dump(mode="json"))
        assert essence(got) == essence(expected[image_id]), image_id
    outcomes = Counter(e.outcome.value for e in events.values())
    assert set(outcomes) == {"accepted", "rejected", "error"}, outcomes
    # The API container reads the verdicts back from the object store.
    with deployment.client() as client:
        for image_id, event in events.items():
            status = client.get(f"/v2/images/{image_id}").raise_for_status().json()
            assert status["outcome"] == event.outcome.value
        # The image carries the message catalogues: advice comes in the asked language.
        advice = client.get(f"/v1/images/{image_id}/advice", headers={"Accept-Language": "es"})
        assert advice.raise_for_status().json()["language"] == "es"
        assert advice.headers["Content-Language"] == "es"
    assert deployment.api.healthy()
    assert all(consumer.healthy() for consumer, _port in deployment.consumers)
    assert deployment.api.inspect("{{.HostConfig.ReadonlyRootfs}}") == "true"
    print(f"verdicts through the containers: {dict(outcomes)}")


def test_sigterm_to_a_consumer_container_drains_commits_and_exits_0(deploy: Deploy) -> None:
    # One event in flight per replica, and uploads one at a time, so the stop lands
    # while the stream is still flowing.
    deployment = deploy(MAX_IN_FLIGHT="1")
    (victim, victim_port), (survivor, survivor_port) = deployment.consumers
    # Distinct bytes: exact duplicates would reuse a verdict rather than be scored.
    blobs = [images.encode(images.sharp_photo(800 + i, 600)) for i in range(200)]
    with ThreadPoolExecutor(max_workers=1) as pool:
        uploading = pool.submit(_upload_all, deployment, blobs, ["default"] * len(blobs), 1)
        _poll("the replica to be stopped scoring", lambda: _scored(victim_port) >= 1, 120)
        assert not uploading.done(), "the stop must land mid-stream"
        assert victim.stop(timeout_s=45) == 0
        ids = uploading.result()
    assert '"consumer stopped"' in victim.logs()

    copies = Counter(e.image_id for e in _verdict_events(deployment, expect=len(ids)))
    assert set(copies) == set(ids)
    assert max(copies.values()) == 1, "a graceful stop must not cause redelivery"
    assert _scored(survivor_port) > 0
    assert survivor.healthy()


def _poll(what: str, done: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout_s:.0f}s")
        time.sleep(0.2)
