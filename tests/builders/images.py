"""Encode real photos and controlled degradations to bytes, as a phone or a hostile client would.

The photos are scikit-image's bundled real photographs (no download needed).
"""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache

import cv2
import numpy as np
import piexif
from numpy.typing import NDArray
from PIL import Image
from skimage import data as skdata

RGB = NDArray[np.uint8]


@cache
def real_photo(name: str = "astronaut") -> RGB:
    """A bundled real photo as RGB uint8 (astronaut 512x512, coffee 400x600, chelsea 300x451)."""
    image = getattr(skdata, name)()
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[..., :3], dtype=np.uint8)


def resized(image: RGB, width: int, height: int) -> RGB:
    """Lanczos resize; upscaling a real photo keeps it sharp enough for the default profile."""
    out: RGB = np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.LANCZOS))
    return out


#: Real photos bundled with scikit-image that are at least 400 px on each side.
MOSAIC_SOURCES = ("astronaut", "coffee", "rocket", "stereo_motorcycle")
_TILE = 400


@cache
def _tile(name: str) -> RGB:
    if name == "stereo_motorcycle":
        left = skdata.stereo_motorcycle()[0]  # type: ignore[no-untyped-call]
        image = np.ascontiguousarray(left[..., :3], dtype=np.uint8)
    else:
        image = real_photo(name)
    h, w = image.shape[:2]
    top, left = (h - _TILE) // 2, (w - _TILE) // 2
    return np.ascontiguousarray(image[top : top + _TILE, left : left + _TILE])


def sharp_photo(width: int = 1600, height: int = 1200, name: str = "astronaut") -> RGB:
    """A sharp real-photo mosaic at native pixel scale, starting with ``name``.

    Upscaling a small photo to phone size would soften it; tiling native crops of
    real photos keeps real camera detail at any size.
    """
    order = [name, *(n for n in MOSAIC_SOURCES if n != name)]
    rows, cols = -(-height // _TILE), -(-width // _TILE)
    grid = [
        [
            _tile(order[(r * cols + c) % len(order)])[:, :: (-1 if (r + c) % 2 else 1)]
            for c in range(cols)
        ]
        for r in range(rows)
    ]
    mosaic = np.concatenate([np.concatenate(row, axis=1) for row in grid], axis=0)
    return np.ascontiguousarray(mosaic[:height, :width])


def gaussian_blurred(image: RGB, sigma: float) -> RGB:
    return np.asarray(cv2.GaussianBlur(image, (0, 0), sigmaX=sigma), dtype=np.uint8)


def with_brightness(image: RGB, gain: float, offset: float = 0.0) -> RGB:
    """Scale and shift levels, clipping like an over/under-exposed sensor."""
    out: RGB = np.clip(image.astype(np.float32) * gain + offset, 0, 255).astype(np.uint8)
    return out


def exif_bytes(
    *,
    orientation: int | None = None,
    make: str = "Fairphone",
    model: str = "FP5",
    taken: str = "2026:05:04 10:11:12",
    gps: tuple[float, float] | None = None,
) -> bytes:
    zeroth: dict[int, object] = {piexif.ImageIFD.Make: make, piexif.ImageIFD.Model: model}
    if orientation is not None:
        zeroth[piexif.ImageIFD.Orientation] = orientation
    exif = {
        piexif.ExifIFD.DateTimeOriginal: taken,
        piexif.ExifIFD.ISOSpeedRatings: 100,
        piexif.ExifIFD.ExposureTime: (1, 120),
        piexif.ExifIFD.FNumber: (18, 10),
    }
    gps_ifd: dict[int, object] = {}
    if gps is not None:
        lat, lon = gps
        gps_ifd = {
            piexif.GPSIFD.GPSLatitudeRef: "N" if lat >= 0 else "S",
            piexif.GPSIFD.GPSLatitude: _dms(abs(lat)),
            piexif.GPSIFD.GPSLongitudeRef: "E" if lon >= 0 else "W",
            piexif.GPSIFD.GPSLongitude: _dms(abs(lon)),
        }
    return bytes(piexif.dump({"0th": zeroth, "Exif": exif, "GPS": gps_ifd}))


def _dms(value: float) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60 * 1000)
    return ((degrees, 1), (minutes, 1), (seconds, 1000))


def encode(image: RGB, fmt: str = "JPEG", *, quality: int = 92, exif: bytes | None = None) -> bytes:
    """Encode with Pillow (``fmt``: JPEG, PNG, WEBP, TIFF, BMP) or pillow-heif (``HEIF``)."""
    buffer = io.BytesIO()
    pil = Image.fromarray(image)
    kwargs: dict[str, object] = {}
    if exif is not None:
        kwargs["exif"] = exif
    if fmt in ("JPEG", "WEBP", "HEIF"):
        kwargs["quality"] = quality
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.from_pillow(pil).save(buffer, format="HEIF", **kwargs)
    else:
        pil.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR announcing ``width`` x ``height``, with no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk) & 0xFFFFFFFF)
    )


def with_garbage_exif(jpeg: bytes) -> bytes:
    """Insert an APP1 'Exif' segment whose TIFF body is random bytes, after SOI."""
    rng = np.random.default_rng(7)
    body = (
        b"Exif\x00\x00MM\x00*\x00\x00\x00\x08" + rng.integers(0, 256, 400, dtype=np.uint8).tobytes()
    )
    segment = b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
    return jpeg[:2] + segment + jpeg[2:]
