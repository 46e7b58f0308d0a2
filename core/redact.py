"""A redacted derivative of a photo, for publishing: detected people and vehicles pixelated.

Pure: bytes and boxes in, JPEG bytes out; the shells decide where to store it.
It decodes the photo again at full resolution on purpose: scoring works on a
small array, but a published copy must keep the original's detail outside the
boxes. It runs only for photos whose verdict says ``redaction_required``.

Pixelation (then a light blur) rather than a plain Gaussian blur: a blur of a
face or plate can be partly inverted, coarse blocks cannot. The copy carries no
EXIF, because GPS position and camera serial are personal data too.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import cv2
import numpy as np
import pillow_heif
from PIL import Image

from core.budget import check_derivative
from core.decode import upright_rgb
from core.errors import CorruptImageError, TooManyPixelsError, UnsupportedFormatError
from core.formats import SNIFF_BYTES, ImageFormat, sniff_format
from core.pixels import writable_rgb
from core.schema import BoundingBox, Detection


def redacted_jpeg(
    data: bytes,
    boxes: Iterable[BoundingBox | Detection],
    *,
    max_pixels: int = 100_000_000,
    quality: int = 90,
    margin: float = 0.08,
    blocks: int = 12,
) -> bytes:
    """JPEG bytes of ``data`` in display orientation with every box pixelated.

    ``boxes`` are in original-photo pixels after EXIF orientation, as in
    ``Verdict.detections``; a :class:`Detection` is redacted only when its
    ``redact`` flag is set. Each box grows by ``margin`` of its size on every side
    (detector boxes are tight) and is reduced to about ``blocks`` blocks across
    its longer side. Raises :class:`core.errors.ImageError` subclasses for input
    that is not a decodable image.
    """
    rgb = _decode_upright(data, max_pixels)
    height, width = rgb.shape[:2]
    for item in boxes:
        if isinstance(item, Detection):
            if not item.redact:
                continue
            box = item.box
        else:
            box = item
        dx, dy = (box.x2 - box.x1) * margin, (box.y2 - box.y1) * margin
        x1, y1 = max(0, int(box.x1 - dx)), max(0, int(box.y1 - dy))
        x2, y2 = min(width, int(np.ceil(box.x2 + dx))), min(height, int(np.ceil(box.y2 + dy)))
        if x2 - x1 < 2 or y2 - y1 < 2:
            continue
        rgb[y1:y2, x1:x2] = _pixelate(rgb[y1:y2, x1:x2], blocks)
    out = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


#: Pixels a block spans in the mosaic that is softened before it is stretched over the box.
_MOSAIC_BLOCK_PX = 8


def _pixelate(region: np.ndarray, blocks: int) -> np.ndarray:
    """``region`` as about ``blocks`` blocks across its longer side, their edges softened.

    The mosaic is softened at 8 px a block, with a kernel a block wide, then stretched
    over the region: the look of softening the full-size mosaic, at a cost that does not
    grow with the box. At full size the kernel is a block wide too, so its cost grew with
    the square of the box's side: a box over a whole 32 MP frame took a 471 px kernel and
    32 s, a car filling a 12 MP photo 6.6 s.
    """
    h, w = region.shape[:2]
    scale = blocks / max(h, w)
    small = cv2.resize(
        region,
        (max(1, round(w * scale)), max(1, round(h * scale))),
        interpolation=cv2.INTER_AREA,
    )
    mosaic = cv2.resize(
        small, None, fx=_MOSAIC_BLOCK_PX, fy=_MOSAIC_BLOCK_PX, interpolation=cv2.INTER_NEAREST
    )
    kernel = (_MOSAIC_BLOCK_PX | 1, _MOSAIC_BLOCK_PX | 1)
    soft = cv2.GaussianBlur(mosaic, kernel, 0)
    return np.asarray(cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR), dtype=np.uint8)


def _decode_upright(data: bytes, max_pixels: int) -> np.ndarray:
    fmt = sniff_format(data[:SNIFF_BYTES]) if data else None
    if fmt is None:
        raise UnsupportedFormatError("not a supported image")
    if fmt is not ImageFormat.HEIF:
        return upright_rgb(data, fmt, max_pixels=max_pixels)
    try:
        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
        if heif.size[0] * heif.size[1] > max_pixels:
            raise TooManyPixelsError("image dimensions exceed the pixel limit")
        check_derivative(*heif.size)
        return writable_rgb(np.asarray(heif))
    # libheif reports damage as EOFError or RuntimeError, an empty container as IndexError.
    except (OSError, SyntaxError, ValueError, RuntimeError, EOFError, IndexError) as exc:
        raise CorruptImageError(f"cannot decode the image to redact it: {exc}") from exc
