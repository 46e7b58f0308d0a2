"""Object detection behind one small interface, so checks never see a backend.

Two backends implement :class:`Detector`:

* :class:`~core.detect.onnx_backend.OnnxDetector` runs an ultralytics-exported YOLO
  ONNX model with onnxruntime; letterbox, decoding and NMS are NumPy
  (:mod:`core.detect.yolo`). Light (no torch) and fast on CPU. Extra: ``.[detect]``.
* :class:`~core.detect.ultralytics_backend.UltralyticsDetector` runs anything the
  ultralytics package loads (``.pt``, ``.onnx``, OpenVINO), on CPU or GPU.
  Extra: ``.[ultralytics]`` (pulls torch).

Loading a model takes hundreds of milliseconds, so a shell builds one detector per
worker process and passes it to every :func:`core.score` call; core keeps no cache.
The backends import their runtime lazily: ``import core`` never needs either extra.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from core.pixels import RGBImage
from core.rules import DetectorRule


@dataclass(frozen=True, slots=True)
class RawDetection:
    """One box in the pixel coordinates of the array given to the detector.

    ``box`` is ``(x1, y1, x2, y2)``; the engine maps it to the original photo.
    """

    box: tuple[float, float, float, float]
    class_id: int
    confidence: float


@runtime_checkable
class Detector(Protocol):
    """What the engine needs from a model: class names and batched inference."""

    @property
    def names(self) -> Mapping[int, str]:
        """The model's own class names, by class index."""
        ...

    def detect(self, images: Sequence[RGBImage], rule: DetectorRule) -> list[list[RawDetection]]:
        """Detect objects in each uint8 RGB ``(H, W, 3)`` image, in one batch where possible.

        Returns one list per image, highest confidence first, after NMS, with
        ``rule.confidence``, ``rule.iou`` and ``rule.max_detections`` applied.
        """
        ...


def label_for(class_id: int, names: Mapping[int, str], rule: DetectorRule) -> str:
    """The profile's class map wins over the model's names, so labels are the profile's words."""
    if rule.classes and class_id in rule.classes:
        return rule.classes[class_id]
    return names.get(class_id, str(class_id))


__all__ = ["Detector", "RawDetection", "label_for"]
