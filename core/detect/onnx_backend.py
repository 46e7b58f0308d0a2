"""The onnxruntime backend: an ultralytics-exported YOLO ONNX model without torch.

The model arrives as bytes, so core does no file I/O: the shell reads the file
named by ``DetectorRule.model`` once per worker process and builds one
:class:`OnnxDetector` from it.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from core.detect import RawDetection
from core.detect.yolo import decode, letterbox, to_tensor, unletterbox
from core.pixels import RGBImage
from core.rules import DetectorRule

#: Largest downsampling of YOLO's feature maps; dynamic input sides must be multiples of it.
_STRIDE = 32


class OnnxDetector:
    """A YOLO (v8/v11 head) ONNX model on onnxruntime.

    A model exported with a fixed input shape runs at that shape (``rule.input_size``
    is then ignored) and, when its batch is fixed too, one image per run; a model
    exported with ``dynamic=True`` fits each image into ``rule.input_size`` and
    batches up to ``max_batch`` images of the same aspect.
    """

    def __init__(
        self,
        model: bytes,
        *,
        threads: int | None = None,
        providers: Sequence[str] = ("CPUExecutionProvider",),
        max_batch: int = 16,
    ) -> None:
        import onnxruntime as ort  # an optional extra: only needed once detection is on

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        self._session: Any = ort.InferenceSession(
            model, sess_options=options, providers=list(providers)
        )
        first = self._session.get_inputs()[0]
        self._input_name: str = first.name
        batch, _, height, width = first.shape
        self._fixed_batch = batch if isinstance(batch, int) else None
        self._fixed_size = (
            (height, width) if isinstance(height, int) and isinstance(width, int) else None
        )
        self._dtype: type[np.floating] = (
            np.float16 if first.type == "tensor(float16)" else np.float32
        )
        self._max_batch = self._fixed_batch or max(1, max_batch)
        metadata = self._session.get_modelmeta().custom_metadata_map
        self._names = _parse_names(metadata.get("names", "{}"))

    @property
    def names(self) -> Mapping[int, str]:
        return self._names

    @property
    def fixed_batch(self) -> int | None:
        """The batch size baked into the model, or ``None`` when it batches freely."""
        return self._fixed_batch

    def detect(self, images: Sequence[RGBImage], rule: DetectorRule) -> list[list[RawDetection]]:
        # A dynamic model runs each image at the smallest stride-32 rectangle that holds
        # it (a 4:3 photo costs 3/4 of a square, as in ultralytics); images that share a
        # rectangle share a batch, so batching never changes an image's result.
        groups: dict[tuple[int, int], list[int]] = {}
        for index, image in enumerate(images):
            groups.setdefault(self._input_shape(image, rule.input_size), []).append(index)
        found: list[list[RawDetection]] = [[] for _ in images]
        for shape, indices in groups.items():
            for start in range(0, len(indices), self._max_batch):
                chunk = indices[start : start + self._max_batch]
                for index, detections in zip(
                    chunk, self._run([images[i] for i in chunk], shape, rule), strict=True
                ):
                    found[index] = detections
        return found

    def _input_shape(self, image: RGBImage, size: int) -> tuple[int, int]:
        if self._fixed_size is not None:
            return self._fixed_size
        h, w = image.shape[:2]
        gain = min(size / h, size / w)
        return (
            min(size, -(-round(h * gain) // _STRIDE) * _STRIDE),
            min(size, -(-round(w * gain) // _STRIDE) * _STRIDE),
        )

    def _run(
        self, images: list[RGBImage], shape: tuple[int, int], rule: DetectorRule
    ) -> list[list[RawDetection]]:
        boxed = [letterbox(image, shape) for image in images]
        tensor = to_tensor([b[0] for b in boxed], self._dtype)
        (output,) = self._session.run(None, {self._input_name: tensor})
        found = []
        for image, (_, gain, pad), raw in zip(images, boxed, output, strict=True):
            boxes, scores, classes = decode(
                raw, confidence=rule.confidence, iou=rule.iou, max_detections=rule.max_detections
            )
            boxes = unletterbox(boxes, gain, pad, image.shape[:2])
            found.append(
                [
                    RawDetection(
                        box=(float(b[0]), float(b[1]), float(b[2]), float(b[3])),
                        class_id=int(c),
                        confidence=float(s),
                    )
                    for b, s, c in zip(boxes, scores, classes, strict=True)
                ]
            )
        return found


def _parse_names(text: str) -> dict[int, str]:
    """ultralytics stores class names as a Python dict literal in the ONNX metadata."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return {}
    if not isinstance(value, dict):
        return {}
    return {int(k): str(v) for k, v in value.items()}
