"""Decode an upload exactly once into what every check needs.

Why this shape:

* Resolution, orientation, EXIF and JPEG quantisation tables come from the
  header, before any pixel is decoded; the decompression-bomb guard runs there too.
* The pixel checks only need luminance at a fixed analysis scale, so JPEGs are
  decoded with DCT scaling (Pillow's ``draft``) straight to grey at 1/2, 1/4 or
  1/8 size. Huffman decoding is then the whole cost of the engine.
* EXIF orientation is applied to the small grey array (a free view), not to the
  full-size image.
* Object detection needs colour at about 640 px. Only when a caller asks for it
  (``colour_long_side > 0``) does the same single decode keep colour: JPEGs are then
  drafted to YCbCr, whose Y plane is bit-identical to the grey draft, so the
  grey checks see the same pixels whether detection is on or off.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
import pillow_heif
from numpy.typing import NDArray
from PIL import Image

from core.errors import (
    CorruptImageError,
    EmptyImageError,
    TooManyPixelsError,
    UnsupportedFormatError,
)
from core.exif import exif_orientation
from core.formats import SNIFF_BYTES, ImageFormat, sniff_format

GreyImage = NDArray[np.uint8]
#: uint8 RGB, shape ``(H, W, 3)``, display orientation.
RGBImage = NDArray[np.uint8]

_PIL_FORMATS: dict[ImageFormat, str] = {
    ImageFormat.JPEG: "JPEG",
    ImageFormat.PNG: "PNG",
    ImageFormat.WEBP: "WEBP",
    ImageFormat.TIFF: "TIFF",
    ImageFormat.BMP: "BMP",
}
#: Lossless containers that may hold a re-saved, heavily compressed JPEG.
_LOSSLESS = frozenset({ImageFormat.PNG, ImageFormat.TIFF, ImageFormat.BMP})


@dataclass(frozen=True, slots=True)
class DecodedImage:
    """One decoded upload.

    ``grey`` is uint8 luminance (ITU-R 601 weights, 0-255), shape ``(H, W)``,
    already in display orientation, at the analysis scale. ``full_grey`` is the
    same at full resolution, kept only for lossless formats whose compression
    history must be read from 8x8 blocking. ``rgb`` is uint8 RGB ``(H, W, 3)`` in
    display orientation, long side at most ``colour_long_side``; ``None`` unless
    a detector needs it.
    """

    format: ImageFormat
    width: int
    height: int
    size_bytes: int
    grey: GreyImage
    full_grey: GreyImage | None
    exif: bytes | None
    orientation: int
    quantization: dict[int, list[int]] | None
    rgb: RGBImage | None = None

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6


def decode_image(
    data: bytes, *, max_pixels: int, analysis_long_side: int, colour_long_side: int = 0
) -> DecodedImage:
    """Decode ``data`` once; ``analysis_long_side == 0`` keeps full resolution.

    ``colour_long_side > 0`` also keeps an RGB array of at most that long side
    (for the detector), from the same decode.

    Raises a :class:`core.errors.ImageError` subclass for anything that is not a
    scorable image, including decompression bombs (more than ``max_pixels``).
    """
    if not data:
        raise EmptyImageError("the upload is empty (0 bytes)")
    fmt = sniff_format(data[:SNIFF_BYTES])
    if fmt is None:
        raise UnsupportedFormatError(
            "not a supported image: expected JPEG, PNG, WebP, HEIC/HEIF, TIFF or BMP"
        )
    if fmt is ImageFormat.HEIF:
        return _decode_heif(
            data,
            max_pixels=max_pixels,
            analysis_long_side=analysis_long_side,
            colour_long_side=colour_long_side,
        )
    return _decode_pillow(
        data,
        fmt,
        max_pixels=max_pixels,
        analysis_long_side=analysis_long_side,
        colour_long_side=colour_long_side,
    )


def _decode_pillow(
    data: bytes,
    fmt: ImageFormat,
    *,
    max_pixels: int,
    analysis_long_side: int,
    colour_long_side: int = 0,
) -> DecodedImage:
    with warnings.catch_warnings():
        # Our own max_pixels check below is the bomb guard; Pillow's warning is noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        # Pillow warns (UserWarning) on malformed EXIF; parse_exif treats it as absent.
        warnings.simplefilter("ignore", UserWarning)
        _refuse_announced_bomb(data, fmt, max_pixels)
        try:
            image = Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[fmt]])
        except Image.DecompressionBombError as exc:
            raise TooManyPixelsError(f"image dimensions exceed the pixel limit: {exc}") from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise CorruptImageError(f"cannot read the {fmt.value} header: {exc}") from exc
        with image:
            stored_w, stored_h = image.size
            if stored_w * stored_h > max_pixels:
                raise _too_many_pixels(stored_w, stored_h, max_pixels)
            exif_raw, orientation = _exif_and_orientation(image, fmt, data)
            quantization = _quantization(image) if fmt is ImageFormat.JPEG else None
            rgb: RGBImage | None = None
            try:
                if fmt is ImageFormat.JPEG and analysis_long_side:
                    target = max(analysis_long_side, colour_long_side)
                    scale = max(stored_w, stored_h) / target
                    if scale > 1:
                        image.draft(
                            "YCbCr" if colour_long_side else "L",
                            (int(stored_w / scale), int(stored_h / scale)),
                        )
                if colour_long_side and image.mode == "YCbCr":
                    # The Y plane is exactly what a grey draft would have produced.
                    image.load()
                    grey = np.asarray(image.getchannel(0), dtype=np.uint8)
                else:
                    grey = _to_grey(image)
                if colour_long_side:
                    rgb = _to_rgb(image)
            except (
                OSError,
                SyntaxError,
                ValueError,
                EOFError,
                Image.DecompressionBombError,
            ) as exc:
                raise CorruptImageError(f"the {fmt.value} data is damaged: {exc}") from exc
    full_grey = _orient(grey, orientation) if fmt in _LOSSLESS else None
    analysis = _orient(_resize(grey, analysis_long_side), orientation)
    width, height = (stored_h, stored_w) if orientation >= 5 else (stored_w, stored_h)
    colour = None if rgb is None else _orient(_resize(rgb, colour_long_side), orientation)
    return DecodedImage(
        format=fmt,
        width=width,
        height=height,
        size_bytes=len(data),
        grey=analysis,
        full_grey=full_grey,
        exif=exif_raw,
        orientation=orientation,
        quantization=quantization,
        rgb=colour,
    )


def _too_many_pixels(width: int, height: int, max_pixels: int) -> TooManyPixelsError:
    return TooManyPixelsError(
        f"{width}x{height} is {width * height / 1e6:.1f} MP, over the {max_pixels / 1e6:.0f} MP limit"
    )


def _refuse_announced_bomb(data: bytes, fmt: ImageFormat, max_pixels: int) -> None:
    """Check a PNG's IHDR before Pillow parses further: a bare bomb header is still a bomb."""
    if fmt is ImageFormat.PNG and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        if width * height > max_pixels:
            raise _too_many_pixels(width, height, max_pixels)


def _decode_heif(
    data: bytes, *, max_pixels: int, analysis_long_side: int, colour_long_side: int = 0
) -> DecodedImage:
    try:
        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
        width, height = heif.size
        if width * height > max_pixels:
            raise _too_many_pixels(width, height, max_pixels)
        exif_raw = heif.info.get("exif")
        # libheif applies the container's rotation (irot/imir) while decoding, so the
        # pixels are already upright whatever the EXIF orientation tag says.
        pil = heif.to_pillow()
        grey = _to_grey(pil)
        rgb = _resize(_to_rgb(pil), colour_long_side) if colour_long_side else None
    except (OSError, SyntaxError, ValueError, RuntimeError, EOFError, IndexError) as exc:
        # libheif reports damage as EOFError/RuntimeError, and an empty container as IndexError.
        raise CorruptImageError(f"the HEIF data is damaged: {exc}") from exc
    return DecodedImage(
        format=ImageFormat.HEIF,
        width=width,
        height=height,
        size_bytes=len(data),
        grey=_resize(grey, analysis_long_side),
        full_grey=None,
        exif=exif_raw if isinstance(exif_raw, bytes) else None,
        orientation=1,
        quantization=None,
        rgb=rgb,
    )


def _exif_and_orientation(
    image: Image.Image, fmt: ImageFormat, data: bytes
) -> tuple[bytes | None, int]:
    """The raw EXIF block and its orientation, read by our bounded parser, not Pillow's.

    A TIFF file is its own EXIF block (its IFD0 holds the camera tags).
    """
    raw = data if fmt is ImageFormat.TIFF else image.info.get("exif")
    if not isinstance(raw, bytes) or not raw:
        return None, 1
    return raw, exif_orientation(raw)


def _quantization(image: Image.Image) -> dict[int, list[int]] | None:
    tables = getattr(image, "quantization", None)
    if not tables:
        return None
    return {int(k): [int(v) for v in table] for k, table in tables.items()}


def _to_grey(image: Image.Image) -> GreyImage:
    """Luminance as uint8, whatever the mode (palette, alpha, CMYK, 16-bit, float)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        wide = np.asarray(image, dtype=np.float32)
        top = (
            65535.0 if image.mode.startswith("I;16") or float(wide.max(initial=0)) > 255 else 255.0
        )
        scaled: GreyImage = np.clip(wide * (255.0 / top), 0, 255).astype(np.uint8)
        return scaled
    if image.mode == "L":
        grey: GreyImage = np.asarray(image, dtype=np.uint8)
        return grey
    # Through RGB with OpenCV's weights and rounding, as the reference system reads a photo
    # (cv2.imread, then BGR to grey): Pillow's own "L" rounds differently on 1 pixel in
    # 10 000, enough to move a mean or a percentile across a threshold now and then.
    rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)


def _to_rgb(image: Image.Image) -> RGBImage:
    """uint8 RGB ``(H, W, 3)``; alpha is dropped, palette and grey are expanded."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return np.repeat(_to_grey(image)[:, :, None], 3, axis=2)
    rgb: RGBImage = np.asarray(image.convert("RGB"), dtype=np.uint8)
    return rgb


def _resize(grey: GreyImage, long_side: int) -> GreyImage:
    """Area-average down to ``long_side`` (never up), so a threshold means one thing.

    Works on grey ``(H, W)`` and colour ``(H, W, C)`` arrays alike.
    """
    h, w = grey.shape[:2]
    if not long_side or max(h, w) <= long_side:
        return grey
    scale = long_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(cv2.resize(grey, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def _orient(grey: GreyImage, orientation: int) -> GreyImage:
    """Apply an EXIF orientation (1-8) to a 2-D array, or to the first two axes of a 3-D one."""
    if orientation == 1:
        return grey
    ops: dict[int, GreyImage] = {
        2: grey[:, ::-1],
        3: grey[::-1, ::-1],
        4: grey[::-1, :],
        5: grey.swapaxes(0, 1),
        6: np.rot90(grey, -1),
        7: grey[::-1, ::-1].swapaxes(0, 1),
        8: np.rot90(grey, 1),
    }
    return np.ascontiguousarray(ops[orientation])
