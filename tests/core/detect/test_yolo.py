"""Pre- and post-processing in NumPy: properties, no model needed."""

from __future__ import annotations

import numpy as np
import pytest

from core.detect.yolo import decode, letterbox, nms, unletterbox


@pytest.mark.parametrize("shape", [(480, 640), (1080, 810), (640, 640), (100, 1000)])
def test_letterbox_fits_and_round_trips_boxes(shape: tuple[int, int]) -> None:
    image = np.full((*shape, 3), 200, dtype=np.uint8)
    padded, gain, (left, top) = letterbox(image, (640, 640))
    assert padded.shape == (640, 640, 3)
    assert padded[top + 1, left + 1, 0] == 200
    h, w = shape
    box = np.array([[0.1 * w, 0.2 * h, 0.6 * w, 0.9 * h]], dtype=np.float32)
    in_input = box * gain + np.array([left, top, left, top], dtype=np.float32)
    back = unletterbox(in_input, gain, (left, top), shape)
    np.testing.assert_allclose(back, box, atol=1e-3)


def test_letterbox_pads_with_grey_114() -> None:
    padded, _, (left, top) = letterbox(np.zeros((320, 640, 3), np.uint8), (640, 640))
    assert (left, top) == (0, 160)
    assert padded[0, 0].tolist() == [114, 114, 114]


def test_nms_keeps_the_best_of_overlapping_boxes_and_distinct_ones() -> None:
    boxes = np.array(
        [[0, 0, 10, 10], [1, 1, 10, 10], [50, 50, 60, 60], [0, 0, 10, 9]], dtype=np.float32
    )
    scores = np.array([0.5, 0.9, 0.7, 0.6], dtype=np.float32)
    assert nms(boxes, scores, 0.5, 100).tolist() == [1, 2]
    assert nms(boxes, scores, 0.5, 1).tolist() == [1]
    assert nms(boxes, scores, 0.99, 100).tolist() == [1, 2, 3, 0]


def test_decode_is_class_aware_and_thresholded() -> None:
    # Two identical boxes of different classes both survive; a low score does not.
    raw = np.zeros((4 + 2, 3), dtype=np.float32)
    raw[:4, 0] = raw[:4, 1] = [100, 100, 50, 50]
    raw[4, 0], raw[5, 1] = 0.9, 0.8
    raw[:4, 2], raw[4, 2] = [300, 300, 20, 20], 0.1
    boxes, scores, classes = decode(raw, confidence=0.25, iou=0.45, max_detections=10)
    assert classes.tolist() == [0, 1]
    np.testing.assert_allclose(boxes[0], [75, 75, 125, 125])
    np.testing.assert_allclose(scores, [0.9, 0.8], rtol=1e-6)


def test_decode_of_an_empty_output_is_empty() -> None:
    boxes, scores, classes = decode(
        np.zeros((84, 8400), np.float32), confidence=0.25, iou=0.45, max_detections=10
    )
    assert boxes.shape == (0, 4) and scores.shape == (0,) and classes.shape == (0,)
