"""The onnxruntime backend finds real people, batches, and respects the model's shape."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.detect_assets import DetectAssets
from core.decode import decode_image
from core.detect import Detector
from core.detect.onnx_backend import OnnxDetector
from core.rules import DetectorRule
from tests.core.detect.expected import BUS_PEOPLE, ZIDANE_PEOPLE, Box, best_iou

RULE = DetectorRule(model="unused", classes={0: "person", 1: "person"})


def _rgb(path: Path, long_side: int = 640) -> np.ndarray:
    image = decode_image(
        path.read_bytes(),
        max_pixels=100_000_000,
        analysis_long_side=1000,
        colour_long_side=long_side,
    )
    assert image.rgb is not None
    return image.rgb


def _in_original(path: Path, boxes: list[tuple[float, float, float, float]]) -> list[Box]:
    rgb = _rgb(path)
    full = decode_image(path.read_bytes(), max_pixels=100_000_000, analysis_long_side=0)
    s = full.width / rgb.shape[1]
    return [(b[0] * s, b[1] * s, b[2] * s, b[3] * s) for b in boxes]


def test_it_is_a_detector(fall_onnx: OnnxDetector) -> None:
    assert isinstance(fall_onnx, Detector)
    assert dict(fall_onnx.names) == {0: "Normal", 1: "Fall"}
    assert fall_onnx.fixed_batch == 1


@pytest.mark.parametrize(("photo", "expected"), [("bus", BUS_PEOPLE), ("zidane", ZIDANE_PEOPLE)])
def test_finds_every_person_at_a_plausible_box(
    fall_onnx: OnnxDetector, assets: DetectAssets, photo: str, expected: tuple[Box, ...]
) -> None:
    path = assets.bus if photo == "bus" else assets.zidane
    (found,) = fall_onnx.detect([_rgb(path)], RULE)
    boxes = _in_original(path, [d.box for d in found])
    assert len(found) == len(expected), boxes
    for person in expected:
        assert best_iou(person, boxes) > 0.7, (person, boxes)
    assert all(0.25 < d.confidence <= 1 for d in found)
    assert [d.confidence for d in found] == sorted((d.confidence for d in found), reverse=True)


def test_thresholds_come_from_the_rule(fall_onnx: OnnxDetector, assets: DetectAssets) -> None:
    rgb = _rgb(assets.bus)
    strict = RULE.model_copy(update={"confidence": 0.65})
    (few,) = fall_onnx.detect([rgb], strict)
    (one,) = fall_onnx.detect([rgb], RULE.model_copy(update={"max_detections": 1}))
    assert 0 < len(few) < len(BUS_PEOPLE)
    assert all(d.confidence > 0.65 for d in few)
    assert len(one) == 1


def test_a_fixed_batch_model_scores_a_batch_image_by_image(
    fall_onnx: OnnxDetector, assets: DetectAssets
) -> None:
    images = [_rgb(assets.bus), _rgb(assets.zidane), _rgb(assets.bus)]
    batched = fall_onnx.detect(images, RULE)
    singles = [fall_onnx.detect([image], RULE)[0] for image in images]
    assert batched == singles
    assert fall_onnx.detect([], RULE) == []


def test_yolov8n_architecture_shapes(yolov8n_path: Path) -> None:
    detector = OnnxDetector(yolov8n_path.read_bytes(), threads=2)
    assert detector.fixed_batch is None
    assert len(detector.names) == 80
    # A dynamic model runs a 3:4 photo at 640x480, not a padded square.
    assert detector._input_shape(np.zeros((1080, 810, 3), np.uint8), 640) == (640, 480)
    assert detector._input_shape(np.zeros((720, 1280, 3), np.uint8), 640) == (384, 640)
    session = detector._session
    for batch, size in ((1, 640), (3, 320)):
        (out,) = session.run(None, {"images": np.zeros((batch, 3, size, size), np.float32)})
        assert out.shape == (batch, 84, (size // 8) ** 2 + (size // 16) ** 2 + (size // 32) ** 2)


def test_yolov8n_batches_give_the_same_boxes_as_single_images(
    yolov8n_path: Path, assets: DetectAssets
) -> None:
    detector = OnnxDetector(yolov8n_path.read_bytes(), threads=2, max_batch=4)
    # Random-init weights score about 1e-4; a tiny threshold makes boxes to compare.
    rule = DetectorRule(model="unused", confidence=1e-5, max_detections=20)
    images = [_rgb(assets.bus), _rgb(assets.zidane), _rgb(assets.zidane, 500)] * 2
    batched = detector.detect(images, rule)
    singles = [detector.detect([image], rule)[0] for image in images]
    assert any(batched)
    for many, one in zip(batched, singles, strict=True):
        assert [d.class_id for d in many] == [d.class_id for d in one]
        np.testing.assert_allclose([d.box for d in many], [d.box for d in one], atol=0.05)
        np.testing.assert_allclose(
            [d.confidence for d in many], [d.confidence for d in one], rtol=1e-3, atol=1e-7
        )
