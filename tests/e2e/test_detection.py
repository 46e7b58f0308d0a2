"""The privacy check in the running stream: person boxes in the verdict, a redacted copy stored.

The API and a consumer run as real processes; the consumer loads
``deploy/profiles/default-privacy.toml`` (the stack's privacy profile, pointed at the
cached test model) from ``RULE_PROFILES_DIR`` for one tenant. The model and photos
are the detection tests' assets (docs/DETECTION.md): locally a missing asset skips,
with ``CI=true`` it fails.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import re
from pathlib import Path
from typing import NoReturn

import numpy as np
import piexif
import pytest
from minio import Minio
from PIL import Image

from bench.detect_assets import AssetError, DetectAssets, fetch_assets
from core.events import VerdictEvent
from core.schema import BoundingBox
from runtime.layout import Folder, verdict_tags
from tests.builders.images import exif_bytes
from tests.builders.stream import ApiProcess, Stream, read_all
from tests.builders.stream_fixtures import StartConsumer

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "deploy" / "profiles" / "default-privacy.toml"
TENANT = "privacy-demo"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> NoReturn:
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def assets() -> DetectAssets:
    if importlib.util.find_spec("onnxruntime") is None:
        _unavailable("onnxruntime is not installed: pip install -e '.[detect]'")
    try:
        return fetch_assets()
    except AssetError as exc:
        _unavailable(f"detection test assets unavailable: {exc}")


@pytest.fixture
def profiles_dir(assets: DetectAssets, tmp_path: Path) -> Path:
    """The committed profile, with its model path made absolute (the cache may be elsewhere)."""
    text, count = re.subn(
        r'(?m)^model = ".*"$', f"model = {json.dumps(str(assets.fall_onnx))}", PROFILE.read_text()
    )
    assert count == 1
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / PROFILE.name).write_text(text)
    return folder


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float32)


def _mask(shape: tuple[int, ...], boxes: list[BoundingBox], grow: float) -> np.ndarray:
    """True inside every box grown by ``grow`` of its size on each side."""
    mask = np.zeros(shape[:2], dtype=bool)
    for b in boxes:
        dx, dy = (b.x2 - b.x1) * grow, (b.y2 - b.y1) * grow
        mask[
            max(0, int(b.y1 - dy)) : int(b.y2 + dy) + 1, max(0, int(b.x1 - dx)) : int(b.x2 + dx) + 1
        ] = True
    return mask


def test_a_photo_with_people_gets_boxes_and_a_redacted_copy(
    stream: Stream,
    s3_client: Minio,
    api: ApiProcess,
    start_consumer: StartConsumer,
    assets: DetectAssets,
    profiles_dir: Path,
) -> None:
    start_consumer(
        RULE_PROFILES_DIR=str(profiles_dir),
        TENANT_PROFILES=json.dumps({TENANT: "default-privacy"}),
    )
    # bus.jpg with camera EXIF and a GPS fix spliced in (no re-encode): the copy must drop it.
    bus = io.BytesIO()
    piexif.insert(exif_bytes(gps=(52.5162, 13.3777)), assets.bus.read_bytes(), bus)
    photos = {"bus": bus.getvalue(), "zidane": assets.zidane.read_bytes()}
    ids = {api.submit(data, tenant=TENANT): name for name, data in photos.items()}

    messages = read_all(stream.bootstrap_servers, stream.verdicts, expect=2, timeout_s=60)

    events = {e.image_id: e for e in (VerdictEvent.model_validate_json(v) for _k, v in messages)}
    assert set(events) == set(ids)
    for image_id, name in ids.items():
        event, original = events[image_id], photos[ids[image_id]]
        stored = api.client.get(f"/v2/images/{image_id}").json()
        del stored["id"], stored["status"]
        assert VerdictEvent.model_validate(stored) == event, (
            "the stored verdict is the published one"
        )
        assert event.rules.name == "default-privacy"
        assert event.checks["privacy"].passed  # weight 0: it flags, it does not reject
        assert event.redaction_required is True
        people = [d for d in event.detections or [] if d.label == "person" and d.redact]
        assert people, f"{name}: no person found"
        width, height = Image.open(io.BytesIO(original)).size
        for person in people:
            box = person.box
            assert 0 <= box.x1 < box.x2 <= width and 0 <= box.y1 < box.y2 <= height
            assert (box.x2 - box.x1) * (box.y2 - box.y1) > 0.005 * width * height, name

        ref = event.redacted
        assert ref is not None
        assert ref.key == event.object.key.rsplit(".", 1)[0] + ".redacted.jpg"
        copy = s3_client.get_object(stream.bucket, ref.key).read()
        assert (ref.size_bytes, ref.sha256) == (len(copy), hashlib.sha256(copy).hexdigest())
        image = Image.open(io.BytesIO(copy))
        assert image.format == "JPEG"
        assert image.size == (width, height)
        assert "exif" not in image.info and len(image.getexif()) == 0

        before, after = _pixels(original), _pixels(copy)
        diff = np.abs(after - before).mean(axis=2)
        boxes = [p.box for p in people]
        inside = diff[_mask(diff.shape, [_core(b) for b in boxes], 0.0)].mean()
        outside = diff[~_mask(diff.shape, boxes, 0.25)].mean()
        assert inside > 8, f"{name}: boxes barely changed ({inside:.1f})"
        assert outside < 3, f"{name}: far outside the boxes changed ({outside:.1f})"
    stored = {
        o.object_name
        for o in s3_client.list_objects(stream.bucket, prefix=Folder.PHOTOS.prefix, recursive=True)
    }
    assert stored == {e.object.key for e in events.values()} | {
        e.redacted.key for e in events.values() if e.redacted
    }
    for e in events.values():
        for key in (e.object.key, *([e.redacted.key] if e.redacted else [])):
            tags = s3_client.get_object_tags(stream.bucket, key)
            assert dict(tags or {}) == verdict_tags(e.outcome), key


def _core(box: BoundingBox) -> BoundingBox:
    """The middle half of a box: pixelated for sure, whatever the detector's slack."""
    dx, dy = (box.x2 - box.x1) / 4, (box.y2 - box.y1) / 4
    return BoundingBox(x1=box.x1 + dx, y1=box.y1 + dy, x2=box.x2 - dx, y2=box.y2 - dy)
