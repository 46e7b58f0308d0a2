"""``GET /v1/images/{id}`` keeps 0.1.0's shape; ``GET /v2/images/{id}`` is the flat one.

The verdicts are stored by today's consumer pipeline (on the in-memory fakes of its
ports, as in tests/consumer/test_pipeline.py); the API reads that same store through
an in-memory view of its own port. The /v1 answers are validated against the JSON
Schema 0.1.0's code produced (``image-status-0.1.0.schema.json``, frozen): an
integration written against 0.1.0 reads them unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from civicqc.schemas import SCHEMA_DIR
from core.events import VerdictEvent
from core.profiles import builtin_profile
from producer_api.main import create_app
from producer_api.settings import Settings
from runtime.advice import Advice
from runtime.apikeys import KeyRole
from runtime.catalogues import Catalogues
from runtime.ids import new_image_id
from runtime.layout import Folder, photo_prefix, verdict_key
from tests.builders import images
from tests.consumer.fakes import FakeStore
from tests.consumer.test_pipeline import Rig
from tests.producer_api.conftest import Keys, secured

SCHEMA_0_1_0 = json.loads(
    (Path(__file__).with_name("image-status-0.1.0.schema.json")).read_text(encoding="utf-8")
)
SCHEMA_V2 = json.loads((SCHEMA_DIR / "image-status-v2.schema.json").read_text(encoding="utf-8"))
ENGLISH = Advice(Catalogues(), "en")


@cache
def blurred() -> bytes:
    return images.encode(images.gaussian_blurred(images.sharp_photo(1280, 960), 6.0))


@cache
def with_gps() -> bytes:
    return images.encode(images.sharp_photo(640, 480), exif=images.exif_bytes(gps=(52.5, 13.4)))


@dataclass
class StoreView:
    """What the API reads of the object store, over the consumer fake's objects."""

    fake: FakeStore

    async def fetch_if_exists(self, key: str) -> bytes | None:
        return self.fake.objects.get(key)

    async def first_key(self, prefix: str) -> str | None:
        return min((key for key in self.fake.objects if key.startswith(prefix)), default=None)


def scored_by_consumer(store: FakeStore, data: bytes, tenant: str = "default") -> VerdictEvent:
    """The consumer pipeline scores ``data`` and stores photo and verdict in ``store``."""

    async def run() -> VerdictEvent:
        rig = Rig(store)
        event = rig.submitted(data, tenant=tenant)
        await rig.handle(event.model_dump_json().encode())
        return VerdictEvent.model_validate_json(store.objects[verdict_key(event.image_id)])

    return asyncio.run(run())


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@contextlib.contextmanager
def _client(settings: Settings, store: FakeStore) -> Iterator[TestClient]:
    app = create_app(settings, CollectorRegistry(), json_logs=False)
    with TestClient(app) as client:
        app.state.store = StoreView(store)  # after the lifespan opened the real one
        yield client


@pytest.fixture
def client(offline_settings: Settings, store: FakeStore) -> Iterator[TestClient]:
    with _client(offline_settings, store) as client:
        yield client


def _get(client: TestClient, version: str, image_id: str, **headers: str) -> dict[str, Any]:
    response = client.get(f"/{version}/images/{image_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_v1_answers_0_1_0s_shape_with_english_texts(client: TestClient, store: FakeStore) -> None:
    event = scored_by_consumer(store, blurred())
    body = _get(client, "v1", event.image_id)
    jsonschema.validate(body, SCHEMA_0_1_0)

    assert (body["id"], body["status"]) == (event.image_id, "scored")
    nested = body["verdict"]
    assert (nested["schema_version"], nested["image_id"]) == (1, event.image_id)
    assert nested["metadata"] == event.metadata.model_dump(mode="json")
    assert nested["object"] == event.object.model_dump(mode="json")
    verdict = nested["verdict"]
    assert (verdict["verdict"], verdict["score"]) == ("rejected", event.score)
    rules = builtin_profile("default")
    assert verdict["profile"] == {"name": "default", "version": rules.version}
    assert "outcome" not in verdict and "rules" not in verdict and "outcome" not in body

    blur = verdict["checks"]["blur"]
    assert blur["passed"] is False and blur["reason_code"] == "too_blurry"
    sharpness, needed = blur["values"]["sharpness"], blur["thresholds"]["min_sharpness"]
    assert (
        blur["reason"] == f"The photo is blurred (sharpness {sharpness:.0f}, needs {needed:.0f})."
    )
    advice = "Hold the phone steady, tap the subject to focus, and retake the photo."
    assert blur["recommendation"] == advice
    assert verdict["recommendations"][0] == advice
    for name, check in verdict["checks"].items():
        flat = event.checks[name]
        assert {k: check[k] for k in ("passed", "score", "values", "margin")} == {
            "passed": flat.passed,
            "score": flat.score,
            "values": flat.values,
            "margin": flat.margin,
        }
        assert check["reason"] and check["reason"] != f"{name}.{flat.reason_code}", name
        if check["passed"]:
            assert check["recommendation"] is None, name


def test_v1_texts_are_the_advice_routes_english(client: TestClient, store: FakeStore) -> None:
    event = scored_by_consumer(store, blurred())
    verdict = _get(client, "v1", event.image_id)["verdict"]["verdict"]
    said = client.get(f"/v1/images/{event.image_id}/advice").json()
    assert {name: c["reason"] for name, c in verdict["checks"].items()} == {
        name: c["reason"] for name, c in said["checks"].items()
    }
    assert verdict["recommendations"] == said["recommendations"]
    # Another language asked of /v1 still gets 0.1.0's English.
    spanish = _get(client, "v1", event.image_id, **{"Accept-Language": "es"})
    assert spanish["verdict"]["verdict"]["checks"]["blur"]["reason"] == ENGLISH.reason(
        event.checks["blur"]
    )


def test_v2_answers_the_flat_event(client: TestClient, store: FakeStore) -> None:
    event = scored_by_consumer(store, blurred())
    body = _get(client, "v2", event.image_id)
    jsonschema.validate(body, SCHEMA_V2)
    assert (body["schema_version"], body["status"], body["outcome"]) == (2, "scored", "rejected")
    assert "verdict" not in body and "reason" not in body["checks"]["blur"]
    del body["id"], body["status"]
    assert VerdictEvent.model_validate(body) == event


def test_an_unreadable_photo_is_an_error_in_both(client: TestClient, store: FakeStore) -> None:
    event = scored_by_consumer(store, b"\xff\xd8\xff\xe0" + b"\x00" * 100)
    body = _get(client, "v1", event.image_id)
    jsonschema.validate(body, SCHEMA_0_1_0)
    verdict = body["verdict"]["verdict"]
    assert (body["status"], verdict["verdict"], verdict["error"]["code"]) == (
        "error",
        "error",
        "corrupt",
    )
    assert verdict["checks"] == {} and verdict["recommendations"] == []  # as 0.1.0 had it
    assert _get(client, "v2", event.image_id)["outcome"] == "error"


def test_a_pending_photo_in_both_shapes(client: TestClient, store: FakeStore) -> None:
    image_id = new_image_id()
    store.objects[f"{photo_prefix(Folder.PHOTOS, image_id)}.jpg"] = blurred()
    body = _get(client, "v1", str(image_id))
    jsonschema.validate(body, SCHEMA_0_1_0)
    assert body == {
        "id": str(image_id),
        "status": "pending",
        "submitted_at": body["submitted_at"],
        "verdict": None,
    }
    assert body["submitted_at"] is not None
    flat = _get(client, "v2", str(image_id))
    assert flat == {k: v for k, v in body.items() if k != "verdict"} | {"schema_version": 2}


def test_a_verdict_stored_by_0_1_0_reads_in_both(client: TestClient, store: FakeStore) -> None:
    event = scored_by_consumer(store, blurred())
    kept = {"image_id", "submitted_at", "scored_at", "metadata", "object", "redacted"}
    flat = event.model_dump(mode="json")
    engine = {k: v for k, v in flat.items() if k not in kept}
    engine |= {"verdict": engine.pop("outcome"), "profile": engine.pop("rules")}
    engine |= {"schema_version": 1, "image_id": event.image_id, "recommendations": ["old"]}
    for name, check in engine["checks"].items():
        check |= {"reason": f"old {name}", "recommendation": None}
    for key in ("fingerprint", "near_duplicates", "duplicate_of"):
        engine.pop(key)
    version_1 = {**{k: flat[k] for k in kept}, "schema_version": 1, "verdict": engine}
    store.objects[verdict_key(event.image_id)] = json.dumps(version_1).encode()

    body = _get(client, "v1", event.image_id)
    jsonschema.validate(body, SCHEMA_0_1_0)
    blur = body["verdict"]["verdict"]["checks"]["blur"]
    assert blur["reason"] == ENGLISH.reason(event.checks["blur"])  # rendered, as for new ones
    assert _get(client, "v2", event.image_id)["outcome"] == "rejected"


def test_a_public_key_sees_no_personal_data_in_v1(
    offline_settings: Settings, keys: Keys, store: FakeStore
) -> None:
    event = scored_by_consumer(store, with_gps(), tenant="springfield")
    assert event.exif is not None and event.exif.gps is not None
    page, office = keys.add("springfield", KeyRole.PUBLIC), keys.add("springfield")
    with _client(secured(offline_settings, keys), store) as client:
        full = _get(client, "v1", event.image_id, **{"X-API-Key": office})["verdict"]
        assert full["verdict"]["exif"]["gps"] is not None
        shown = _get(client, "v1", event.image_id, **{"X-API-Key": page})
        jsonschema.validate(shown, SCHEMA_0_1_0)
        assert shown["verdict"]["metadata"] == {
            "tenant": "springfield",
            "reporter_id": None,
            "category": None,
            "location": None,
        }
        assert shown["verdict"]["verdict"]["exif"] is None
        assert shown["verdict"]["verdict"]["detections"] is None
        assert shown["verdict"]["verdict"]["checks"] == full["verdict"]["checks"]


def test_openapi_has_both_shapes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    v1 = spec["paths"]["/v1/images/{image_id}"]["get"]["responses"]["200"]
    v2 = spec["paths"]["/v2/images/{image_id}"]["get"]["responses"]["200"]
    assert v1["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ImageStatusV1"
    }
    refs = {s["$ref"] for s in v2["content"]["application/json"]["schema"]["oneOf"]}
    assert refs == {"#/components/schemas/ImagePending", "#/components/schemas/ImageScored"}
    nested = spec["components"]["schemas"]["VerdictEventV1"]["properties"]["verdict"]
    assert nested == {"$ref": "#/components/schemas/VerdictV1"}


def test_the_published_v1_schema_keeps_every_0_1_0_field() -> None:
    """Add, never rename: each 0.1.0 object's fields are still there, as required as before."""
    published = json.loads((SCHEMA_DIR / "image-status-v1.schema.json").read_text(encoding="utf-8"))
    renamed = {"CheckResult": "CheckResultV1", "Verdict": "VerdictV1"}
    renamed["VerdictEvent"] = "VerdictEventV1"
    pairs = [(SCHEMA_0_1_0, published)] + [
        (old, published["$defs"][renamed.get(name, name)])
        for name, old in SCHEMA_0_1_0["$defs"].items()
    ]
    for old, new in pairs:
        assert set(old.get("properties", {})) <= set(new.get("properties", {})), old["title"]
        assert set(old.get("required", [])) <= set(new.get("required", [])), old["title"]
