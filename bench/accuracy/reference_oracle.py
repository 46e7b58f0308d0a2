"""An independent restatement of the reference system's decision, for parity checks.

The `reference` profile must decide exactly as the reference Flask system (v2.0,
its ``/api/validate`` path) does. This module restates that system's published
formulas from its documentation and source *as formulas*, reading a photo the way
it does (OpenCV colour decode then BGR-to-grey, Pillow for the stored size, piexif
for EXIF), with none of the engine's code. ``tests/core/test_reference_parity.py``
and ``bench/accuracy/evaluate.py`` compare the two check by check.

What the reference decides, per check (pass, else partial credit):

* blur: variance of the 4-neighbour Laplacian >= 100; else ``80 * v / 100`` capped at 80.
* brightness: mean in [50, 220] *and* quality score >= 60 % (mean closeness to 128
  and contrast std / 64, halved, minus dark share (< 50) beyond 10 % and bright
  share (>= 200) beyond 5 %); else 30-80 by distance from the band, or 70 inside it.
* resolution: stored width >= 800, height >= 600 and >= 1 MP; else ``80 * MP / 0.5``
  capped at 80 from 0.3 MP, or 20.
* exposure: 0.5-99.5 % grey range >= 120; else ``70 * range / 100`` capped at 70,
  or 30 for a range of 0.
* metadata: at least 15 % of six EXIF fields; else ``2 * percent`` capped at 60.

Weights 25, 20, 25, 15, 15; accepted when the weighted mean, rounded to one
decimal, is at least 65.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import cv2
import numpy as np
import piexif
from numpy.typing import NDArray
from PIL import Image

WEIGHTS = {"blur": 25, "brightness": 20, "resolution": 25, "exposure": 15, "metadata": 15}


@dataclass(frozen=True)
class OracleVerdict:
    """Per check ``(passed, score)``, the rounded total, and the decision."""

    checks: dict[str, tuple[bool, float]]
    total: float
    accepted: bool


def _grey(data: bytes) -> NDArray[np.uint8]:
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError("OpenCV cannot read this image")
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), dtype=np.uint8)


def _blur(grey: NDArray[np.uint8]) -> tuple[bool, float]:
    variance = float(cv2.Laplacian(grey, cv2.CV_64F).var())
    shown = round(variance, 2)
    if variance >= 100:
        return True, 100.0
    return False, (min(80.0, shown / 100 * 80) if shown > 0 else 0.0)


def _brightness(grey: NDArray[np.uint8]) -> tuple[bool, float]:
    counts = np.bincount(grey.ravel(), minlength=256).astype(np.float32)
    dark_share = counts[:50].sum() / counts.sum()
    bright_share = counts[200:].sum() / counts.sum()
    mean, std = np.mean(grey), np.std(grey)
    closeness: Any = 1.0 - abs(mean - 128) / 128
    contrast: Any = min(std / 64, 1.0)
    dark_excess: Any = max(dark_share - 0.1, 0)  # float32, as OpenCV's histogram makes it
    bright_excess: Any = max(bright_share - 0.05, 0)
    penalty = dark_excess + bright_excess
    quality = max(0, min(1, (closeness + contrast) / 2 - penalty)) * 100
    if 50 <= mean <= 220 and quality >= 60:
        return True, 100.0
    shown = round(float(mean), 2)
    if shown < 50:
        return False, max(30.0, 80 - (50 - shown) / 50 * 50)
    if shown > 220:
        return False, max(30.0, 80 - (shown - 220) / 50 * 50)
    return False, 70.0


def _resolution(data: bytes) -> tuple[bool, float]:
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
    megapixels = width * height / 1_000_000
    if width >= 800 and height >= 600 and megapixels >= 1.0:
        return True, 100.0
    shown = round(megapixels, 2)
    return False, (min(80.0, shown / 0.5 * 80) if shown >= 0.3 else 20.0)


def _exposure(grey: NDArray[np.uint8]) -> tuple[bool, float]:
    running = np.cumsum(np.bincount(grey.ravel(), minlength=256).astype(np.float32))
    low = int(np.argmax(running >= running[-1] * 0.005))
    high = int(np.argmax(running >= running[-1] * 0.995))
    spread = high - low
    if spread >= 120:
        return True, 100.0
    return False, (min(70.0, spread / 100 * 70) if spread > 0 else 30.0)


def _exif_fields(data: bytes) -> int:
    """How many of the six fields (time, camera, orientation, ISO, shutter, aperture) are set."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            tags: dict[str, dict[int, Any]] = piexif.load(image.info.get("exif", b""))
    except Exception:  # the reference counts any unreadable block as no metadata
        return 0
    ifd0, exif = tags.get("0th", {}), tags.get("Exif", {})
    found = 0
    try:
        stamp = exif.get(piexif.ExifIFD.DateTimeOriginal, b"").decode("utf-8", errors="ignore")
        found += bool(stamp) and bool(datetime.strptime(stamp, "%Y:%m:%d %H:%M:%S"))
    except Exception:  # an unparseable date is no date
        pass
    try:
        names = [
            ifd0.get(tag, b"").decode("utf-8", errors="ignore")
            for tag in (piexif.ImageIFD.Make, piexif.ImageIFD.Model, piexif.ImageIFD.Software)
        ]
        exif.get(piexif.ExifIFD.LensModel, b"").decode("utf-8", errors="ignore")
        found += bool(names[0] or names[1])
    except Exception:  # a camera name of the wrong type voids the whole camera block
        pass
    found += bool(ifd0.get(piexif.ImageIFD.Orientation))
    for tag in (
        piexif.ExifIFD.ISOSpeedRatings,
        piexif.ExifIFD.ExposureTime,
        piexif.ExifIFD.FNumber,
    ):
        found += bool(exif.get(tag))
    return int(found)


def _metadata(data: bytes) -> tuple[bool, float]:
    percent = round(_exif_fields(data) / 6 * 100, 1)
    if percent >= 15:
        return True, 100.0
    return False, min(60.0, percent * 2)


def reference_decision(data: bytes) -> OracleVerdict:
    """What the reference system decides for ``data`` (JPEG, PNG, BMP or TIFF bytes)."""
    grey = _grey(data)
    checks = {
        "blur": _blur(grey),
        "brightness": _brightness(grey),
        "resolution": _resolution(data),
        "exposure": _exposure(grey),
        "metadata": _metadata(data),
    }
    weighted = 0.0
    for name, (_, score) in checks.items():
        weighted += score * WEIGHTS[name]
    total = round(weighted / sum(WEIGHTS.values()), 1)
    return OracleVerdict(checks, total, total >= 65)
