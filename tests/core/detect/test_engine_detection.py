"""core.score with a detector: boxes in the verdict, privacy and subject checks, batching."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench.detect_assets import DetectAssets
from civicqc.schemas import SCHEMA_DIR
from core import builtin_profile, score
from core.detect.onnx_backend import OnnxDetector
from core.engine import score_batch
from core.schema import Outcome
from tests.builders.images import encode, sharp_photo
from tests.core.detect.conftest import detect_rules
from tests.core.detect.expected import BUS_PEOPLE, ZIDANE_PEOPLE, best_iou


def test_the_default_profile_runs_no_detector_and_needs_none() -> None:
    verdict = score(encode(sharp_photo()), builtin_profile("default"))
    assert verdict.detections is None
    assert verdict.redaction_required is None
    assert verdict.timings.detect_ms is None
    assert "privacy" not in verdict.checks and "subject" not in verdict.checks


def test_a_detection_profile_without_a_detector_is_a_wiring_error() -> None:
    with pytest.raises(ValueError, match="no detector"):
        score(encode(sharp_photo()), detect_rules())


def test_people_are_listed_in_original_pixels_and_require_redaction(
    fall_onnx: OnnxDetector, assets: DetectAssets
) -> None:
    for path, expected, size in (
        (assets.bus, BUS_PEOPLE, (810, 1080)),
        (assets.zidane, ZIDANE_PEOPLE, (1280, 720)),
    ):
        verdict = score(path.read_bytes(), detect_rules(), detector=fall_onnx, image_id=path.name)
        assert verdict.image is not None
        assert (verdict.image.width, verdict.image.height) == size
        assert verdict.detections is not None
        boxes = [(d.box.x1, d.box.y1, d.box.x2, d.box.y2) for d in verdict.detections]
        for person in expected:
            assert best_iou(person, boxes) > 0.7, (path.name, person, boxes)
        assert {d.label for d in verdict.detections} == {"person"}
        assert all(d.redact for d in verdict.detections)
        assert verdict.redaction_required is True
        privacy = verdict.checks["privacy"]
        assert privacy.passed and privacy.reason_code == "redaction_required"
        assert privacy.values["redaction_boxes"] == len(expected)
        assert verdict.timings.detect_ms is not None and verdict.timings.detect_ms > 0
        assert verdict.timings.checks_ms >= verdict.timings.detect_ms


def test_a_photo_without_people_needs_no_redaction(fall_onnx: OnnxDetector) -> None:
    ramp = np.linspace(0, 255, 800 * 600 * 3).reshape(600, 800, 3)
    verdict = score(encode(ramp.astype(np.uint8)), detect_rules(), detector=fall_onnx)
    assert verdict.detections == []
    assert verdict.redaction_required is False
    assert verdict.checks["privacy"].reason_code == "nothing_to_redact"


def test_detection_leaves_the_other_checks_unchanged(
    fall_onnx: OnnxDetector, assets: DetectAssets
) -> None:
    data = assets.bus.read_bytes()
    plain = score(data, builtin_profile("default"))
    detected = score(data, detect_rules(), detector=fall_onnx)
    for name, result in plain.checks.items():
        assert detected.checks[name].values == result.values
        assert detected.checks[name].score == result.score
    assert detected.score == plain.score  # privacy has weight 0 in detect_rules


def test_privacy_can_reject_and_subject_can_cost_score(
    fall_onnx: OnnxDetector, assets: DetectAssets
) -> None:
    data = assets.bus.read_bytes()
    rules = detect_rules(
        privacy={"weight": 10, "fail_when_found": True, "found_score": 0, "veto_below": 50},
        subject={"weight": 20, "required": ["pothole"], "on_missing": "penalise"},
    )
    verdict = score(data, rules, detector=fall_onnx)
    assert verdict.verdict is Outcome.REJECTED
    assert verdict.vetoed_by == ["privacy"]
    assert not verdict.checks["subject"].passed
    assert verdict.checks["subject"].values == {"pothole_confidence": 0.0}

    warn = detect_rules(subject={"weight": 20, "required": ["pothole"]})
    warned = score(data, warn, detector=fall_onnx).checks["subject"]
    assert warned.passed and warned.reason_code == "subject_not_found"

    found = detect_rules(subject={"weight": 20, "required": ["person"], "min_confidence": 0.5})
    assert score(data, found, detector=fall_onnx).checks["subject"].reason_code == "subject_found"


def test_the_privacy_confidence_floor_limits_what_is_redacted(
    fall_onnx: OnnxDetector, assets: DetectAssets
) -> None:
    rules = detect_rules(privacy={"weight": 0, "min_confidence": 0.99})
    verdict = score(assets.bus.read_bytes(), rules, detector=fall_onnx)
    assert verdict.detections and not any(d.redact for d in verdict.detections)
    assert verdict.redaction_required is False


def test_a_batch_scores_like_single_images(fall_onnx: OnnxDetector, assets: DetectAssets) -> None:
    items = [assets.bus.read_bytes(), b"not an image", assets.zidane.read_bytes()]
    rules = detect_rules()
    batch = score_batch(items, rules, image_ids=["a", "b", "c"], detector=fall_onnx)
    singles = [
        score(d, rules, image_id=i, detector=fall_onnx) for d, i in zip(items, "abc", strict=True)
    ]
    assert [v.image_id for v in batch] == ["a", "b", "c"]
    assert batch[1].verdict is Outcome.ERROR and batch[1].detections is None
    for many, one in zip(batch, singles, strict=True):
        assert many.detections == one.detections
        assert many.redaction_required == one.redaction_required
        assert many.score == one.score


def test_a_detection_verdict_validates_against_the_published_schema(
    fall_onnx: OnnxDetector, assets: DetectAssets
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((SCHEMA_DIR / "verdict.schema.json").read_text(encoding="utf-8"))
    verdict = score(assets.zidane.read_bytes(), detect_rules(), detector=fall_onnx)
    jsonschema.validate(json.loads(verdict.model_dump_json()), schema)
