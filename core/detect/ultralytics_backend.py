"""The ultralytics backend: any model format ultralytics loads, on CPU or GPU.

ultralytics reads its settings from the environment when it is first imported and,
left alone, downloads fonts and assets and pip-installs missing packages at run
time. Workers must never do that, so the constructor pins ``YOLO_OFFLINE``,
``YOLO_AUTOINSTALL`` and ``YOLO_CONFIG_DIR`` before the first import. Build the
detector before anything else in the process imports ultralytics.

Importing ultralytics also replaces ``PIL.Image.open`` process-wide with a wrapper
that, on an unidentified image, tries to import (and install) ``pi-heif``. That
would turn the engine's "not an image" verdict into a crash, so the constructor
puts Pillow's own function back right after the import.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.detect import RawDetection
from core.pixels import RGBImage
from core.rules import DetectorRule


class UltralyticsDetector:
    """A YOLO model loaded by ultralytics from ``model`` (a path: ultralytics reads the file).

    ``config_dir`` must be writable; ultralytics keeps its settings file there.
    ``device`` is ultralytics' device string: ``"cpu"``, ``"0"`` for the first GPU.
    """

    def __init__(self, model: str | Path, *, config_dir: str | Path, device: str = "cpu") -> None:
        os.environ["YOLO_OFFLINE"] = "1"
        os.environ["YOLO_AUTOINSTALL"] = "false"
        os.environ["YOLO_CONFIG_DIR"] = str(config_dir)
        from PIL import Image

        original_open = Image.open
        from ultralytics import YOLO  # the heavy optional extra (torch)

        Image.open = original_open  # undo ultralytics' import-time patch (see module doc)

        self._model: Any = YOLO(str(model), task="detect")
        self._device = device
        self._names = {int(k): str(v) for k, v in dict(self._model.names).items()}

    @property
    def names(self) -> Mapping[int, str]:
        return self._names

    def detect(self, images: Sequence[RGBImage], rule: DetectorRule) -> list[list[RawDetection]]:
        if not images:
            return []
        # ultralytics reads NumPy images as OpenCV BGR.
        results = self._model.predict(
            [np.ascontiguousarray(image[:, :, ::-1]) for image in images],
            conf=rule.confidence,
            iou=rule.iou,
            imgsz=rule.input_size,
            max_det=rule.max_detections,
            device=self._device,
            verbose=False,
        )
        found: list[list[RawDetection]] = []
        for result in results:
            boxes = result.boxes
            xyxy = boxes.xyxy.cpu().numpy().astype(np.float64)
            conf = boxes.conf.cpu().numpy().astype(np.float64)
            cls = boxes.cls.cpu().numpy().astype(np.int64)
            found.append(
                [
                    RawDetection(
                        box=(float(b[0]), float(b[1]), float(b[2]), float(b[3])),
                        class_id=int(c),
                        confidence=float(s),
                    )
                    for b, s, c in zip(xyxy, conf, cls, strict=True)
                ]
            )
        return found
