"""YOLOv8/v11 pre- and post-processing in NumPy, matching ultralytics' own.

Matching matters: the ONNX backend must find the same boxes as ultralytics on
the same model, so letterboxing copies ultralytics' rounding (pad colour 114,
``round(d - 0.1)`` / ``round(d + 0.1)`` split) and NMS is class-aware via the
same coordinate-offset trick.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from core.pixels import RGBImage

#: Offset that separates classes in one NMS pass (ultralytics' ``max_wh``).
_CLASS_OFFSET = 7680.0
#: Cap on candidates entering NMS, as ultralytics, so a noisy model can't stall a worker.
_MAX_CANDIDATES = 30000

FloatArray = NDArray[np.float32]


def letterbox(
    image: RGBImage, size: tuple[int, int], *, pad_value: int = 114
) -> tuple[RGBImage, float, tuple[int, int]]:
    """Resize ``image`` to fit ``size = (height, width)`` keeping its aspect ratio, then pad.

    Returns the padded uint8 ``(height, width, 3)`` array, the scale factor and the
    ``(left, top)`` padding, which :func:`unletterbox` needs to map boxes back.
    """
    h, w = image.shape[:2]
    gain = min(size[0] / h, size[1] / w)
    new_w, new_h = round(w * gain), round(h * gain)
    if (new_w, new_h) != (w, h):
        image = np.asarray(
            cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR), dtype=np.uint8
        )
    dw, dh = (size[1] - new_w) / 2, (size[0] - new_h) / 2
    top, bottom = round(dh - 0.1), round(dh + 0.1)
    left, right = round(dw - 0.1), round(dw + 0.1)
    padded = cv2.copyMakeBorder(
        image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(pad_value,) * 3
    )
    return np.asarray(padded, dtype=np.uint8), gain, (left, top)


def to_tensor(
    images: list[RGBImage], dtype: type[np.floating] = np.float32
) -> NDArray[np.floating]:
    """Stack letterboxed uint8 RGB ``(H, W, 3)`` images into a ``(N, 3, H, W)`` 0-1 tensor."""
    batch = np.stack(images).transpose(0, 3, 1, 2)
    tensor: NDArray[np.floating] = np.ascontiguousarray(batch, dtype=dtype)
    tensor *= dtype(1.0 / 255.0)
    return tensor


def decode(
    output: NDArray[np.floating], *, confidence: float, iou: float, max_detections: int
) -> tuple[FloatArray, FloatArray, NDArray[np.int64]]:
    """Boxes, scores and classes from one image's raw YOLO head output.

    ``output`` has shape ``(4 + classes, anchors)``: centre x, centre y, width,
    height in input pixels, then one sigmoid score per class (no objectness, as
    in YOLOv8 and later). Returns ``(K, 4)`` xyxy boxes, ``(K,)`` scores and
    ``(K,)`` class indices, best first, after class-aware NMS.
    """
    preds = np.asarray(output, dtype=np.float32).T
    class_scores = preds[:, 4:]
    classes = class_scores.argmax(axis=1)
    scores = class_scores[np.arange(len(preds)), classes]
    keep = scores > confidence
    preds, scores, classes = preds[keep], scores[keep], classes[keep]
    if len(scores) > _MAX_CANDIDATES:
        top = np.argsort(-scores)[:_MAX_CANDIDATES]
        preds, scores, classes = preds[top], scores[top], classes[top]
    boxes = np.empty((len(preds), 4), dtype=np.float32)
    half_w, half_h = preds[:, 2] / 2, preds[:, 3] / 2
    boxes[:, 0] = preds[:, 0] - half_w
    boxes[:, 1] = preds[:, 1] - half_h
    boxes[:, 2] = preds[:, 0] + half_w
    boxes[:, 3] = preds[:, 1] + half_h
    kept = nms(boxes + classes[:, None] * _CLASS_OFFSET, scores, iou, max_detections)
    return boxes[kept], scores[kept], classes[kept].astype(np.int64)


def nms(
    boxes: FloatArray, scores: FloatArray, iou_threshold: float, max_keep: int
) -> NDArray[np.int64]:
    """Greedy non-maximum suppression; indices of kept ``(x1, y1, x2, y2)`` boxes, best first.

    A box is dropped when its IoU with a better kept box exceeds ``iou_threshold``.
    """
    order = np.argsort(-scores, kind="stable")
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(
        boxes[:, 3] - boxes[:, 1], 0, None
    )
    keep: list[int] = []
    while order.size and len(keep) < max_keep:
        best, rest = int(order[0]), order[1:]
        keep.append(best)
        x1 = np.maximum(boxes[best, 0], boxes[rest, 0])
        y1 = np.maximum(boxes[best, 1], boxes[rest, 1])
        x2 = np.minimum(boxes[best, 2], boxes[rest, 2])
        y2 = np.minimum(boxes[best, 3], boxes[rest, 3])
        inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
        union = areas[best] + areas[rest] - inter
        overlap = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        order = rest[overlap <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def unletterbox(
    boxes: FloatArray, gain: float, pad: tuple[int, int], shape: tuple[int, int]
) -> FloatArray:
    """Map xyxy boxes from letterboxed input pixels back to the ``shape = (H, W)`` image."""
    out = boxes.copy()
    out[:, [0, 2]] = (out[:, [0, 2]] - pad[0]) / gain
    out[:, [1, 3]] = (out[:, [1, 3]] - pad[1]) / gain
    out[:, [0, 2]] = out[:, [0, 2]].clip(0, shape[1])
    out[:, [1, 3]] = out[:, [1, 3]].clip(0, shape[0])
    return out
