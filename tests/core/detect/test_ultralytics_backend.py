"""The ultralytics backend finds the same people as the onnx backend on the same model.

Needs torch (the ``ultralytics`` extra); skipped with the reason when absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.detect_assets import DetectAssets
from core import score
from core.decode import decode_image
from core.detect import Detector, RawDetection
from core.detect.onnx_backend import OnnxDetector
from core.detect.ultralytics_backend import UltralyticsDetector
from core.engine import score_batch
from core.rules import DetectorRule
from tests.core.detect.conftest import detect_rules
from tests.core.detect.expected import BUS_PEOPLE, ZIDANE_PEOPLE, best_iou, iou

RULE = DetectorRule(model="unused", classes={0: "person", 1: "person"})


@pytest.fixture(scope="module")
def fall_pt(ultralytics_ready: Path, assets: DetectAssets) -> UltralyticsDetector:
    return UltralyticsDetector(assets.fall_pt, config_dir=ultralytics_ready)


@pytest.fixture(scope="module")
def fall_onnx_by_ultralytics(
    ultralytics_ready: Path, assets: DetectAssets, onnxruntime_installed: None
) -> UltralyticsDetector:
    return UltralyticsDetector(assets.fall_onnx, config_dir=ultralytics_ready)


def _rgb(path: Path) -> np.ndarray:
    image = decode_image(
        path.read_bytes(), max_pixels=100_000_000, analysis_long_side=1000, colour_long_side=640
    )
    assert image.rgb is not None
    return image.rgb


def _agree(a: list[RawDetection], b: list[RawDetection], min_iou: float, conf_tol: float) -> None:
    assert len(a) == len(b), (a, b)
    for det in a:
        match = max(b, key=lambda other: iou(det.box, other.box))
        assert iou(det.box, match.box) >= min_iou, (det, match)
        assert abs(det.confidence - match.confidence) <= conf_tol, (det, match)


def test_it_is_a_detector_and_stays_offline(fall_pt: UltralyticsDetector) -> None:
    import os

    assert isinstance(fall_pt, Detector)
    assert dict(fall_pt.names) == {0: "Normal", 1: "Fall"}
    assert os.environ["YOLO_OFFLINE"] == "1"
    assert os.environ["YOLO_AUTOINSTALL"] == "false"


def test_pt_weights_find_every_person(fall_pt: UltralyticsDetector, assets: DetectAssets) -> None:
    for path, expected in ((assets.bus, BUS_PEOPLE), (assets.zidane, ZIDANE_PEOPLE)):
        verdict = score(
            path.read_bytes(), detect_rules(detector={"backend": "ultralytics"}), detector=fall_pt
        )
        assert verdict.detections is not None and verdict.redaction_required
        boxes = [(d.box.x1, d.box.y1, d.box.x2, d.box.y2) for d in verdict.detections]
        for person in expected:
            assert best_iou(person, boxes) > 0.6, (path.name, person, boxes)


def test_both_backends_agree_on_the_same_onnx_model(
    fall_onnx_by_ultralytics: UltralyticsDetector, fall_onnx: OnnxDetector, assets: DetectAssets
) -> None:
    for path in (assets.bus, assets.zidane):
        rgb = _rgb(path)
        (ours,) = fall_onnx.detect([rgb], RULE)
        (theirs,) = fall_onnx_by_ultralytics.detect([rgb], RULE)
        # Same model and letterbox: only resize interpolation and float order differ.
        _agree(ours, theirs, min_iou=0.97, conf_tol=0.01)


def test_pt_and_its_onnx_export_agree_across_backends(
    fall_pt: UltralyticsDetector, fall_onnx: OnnxDetector, assets: DetectAssets
) -> None:
    # .pt runs at a minimal rectangle (480x640), the static ONNX at 640x640 in fp16, so
    # the model sees different padding: same people, boxes agree more loosely (the
    # half-hidden man on the bus's right edge moves most).
    for path in (assets.bus, assets.zidane):
        rgb = _rgb(path)
        (ours,) = fall_onnx.detect([rgb], RULE)
        (theirs,) = fall_pt.detect([rgb], RULE)
        matched = [max(iou(d.box, t.box) for t in theirs) for d in ours]
        assert len(ours) == len(theirs)
        assert all(m > 0.6 for m in matched), matched


def test_batching_gives_the_same_boxes_as_single_images(
    fall_pt: UltralyticsDetector, assets: DetectAssets
) -> None:
    # ultralytics pads a batch of mixed shapes to a square but a lone image to a minimal
    # rectangle, so exact agreement holds for same-shaped images (mixed: see score_batch).
    bus = _rgb(assets.bus)
    images = [bus, np.ascontiguousarray(bus[:, ::-1]), bus]
    batched = fall_pt.detect(images, RULE)
    for image, many in zip(images, batched, strict=True):
        (one,) = fall_pt.detect([image], RULE)
        _agree(many, one, min_iou=0.99, conf_tol=1e-3)
    rules = detect_rules(detector={"backend": "ultralytics"})
    verdicts = score_batch(
        [assets.bus.read_bytes(), assets.zidane.read_bytes()], rules, detector=fall_pt
    )
    assert [len(v.detections or []) for v in verdicts] == [len(BUS_PEOPLE), len(ZIDANE_PEOPLE)]


def test_loading_ultralytics_keeps_non_images_an_error_verdict(
    fall_pt: UltralyticsDetector,
) -> None:
    """ultralytics patches PIL.Image.open on import; the engine must still map bad bytes."""
    from PIL import Image

    from core import builtin_profile
    from core.schema import ErrorCode

    assert Image.open.__module__ == "PIL.Image"
    verdict = score(b"\xff\xd8\xff garbage that claims to be a JPEG", builtin_profile("default"))
    assert verdict.error is not None and verdict.error.code is ErrorCode.CORRUPT
