"""A re-creation of the reference system's per-photo cost, as a speed baseline only.

The Flask system re-reads the file for each of its five checks at full
resolution and computes a float64 Laplacian. This module reproduces that work
pattern (not its scoring, which lives once, in ``core``) so the benchmark can
report our speed-up measured in the same run.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image


def _decode(buffer: NDArray[np.uint8]) -> NDArray[np.uint8]:
    image = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("not a decodable image")
    return np.asarray(image, dtype=np.uint8)


def reference_cost(data: bytes) -> float:
    buffer = np.frombuffer(data, dtype=np.uint8)
    # 1. blur: decode, grey, float64 Laplacian variance
    grey = cv2.cvtColor(_decode(buffer), cv2.COLOR_BGR2GRAY)
    total = float(cv2.Laplacian(grey, cv2.CV_64F).var())
    # 2. brightness: decode again, grey mean and histogram
    grey = cv2.cvtColor(_decode(buffer), cv2.COLOR_BGR2GRAY)
    total += float(np.mean(grey)) + float(cv2.calcHist([grey], [0], None, [256], [0, 256]).sum())
    # 3. resolution: decode again for the shape
    total += float(_decode(buffer).shape[0])
    # 4. exposure: decode again, grey + HSV, histogram
    colour = _decode(buffer)
    grey = cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY)
    hsv = cv2.cvtColor(colour, cv2.COLOR_BGR2HSV)
    total += float(cv2.calcHist([grey], [0], None, [256], [0, 256]).sum()) + float(hsv[0, 0, 0])
    # 5. metadata: open with Pillow and read EXIF
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        total += len(image.getexif())
    return total
