"""Pixels out of a decoded image as uint8 arrays, and the cheap measurements read there.

Why a module of its own: :mod:`core.decode` decides how an upload is decoded (which
scale, which mode, which limits); this one turns what Pillow or libheif decoded into the
arrays the checks read, with as few full-size copies as possible (a band of rows at a
time, packed once), and shapes them (area resize, EXIF orientation). None keeps state:
an image or array in, a new array (or a view) out; reading a lazily opened Pillow image
decodes it first, as ``np.asarray`` would.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

GreyImage = NDArray[np.uint8]
#: uint8 RGB, shape ``(H, W, 3)``, display orientation.
RGBImage = NDArray[np.uint8]


#: Modes whose samples are wider than 8 bits; converted to grey in bands of rows.
_WIDE_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I", "F"})
#: Pixels per band of rows when converting wide or in-place images to grey: the
#: bands' temporaries stay near 16 MB whatever the aspect ratio.
_BAND_PIXELS = 1 << 20


def luma_plane(image: Image.Image) -> GreyImage:
    """The Y plane of a ``YCbCr`` image, packed straight out of Pillow's pixels.

    ``getchannel`` would first build a whole new image of it, one more full-size copy
    (about 1 ms on a 12 MP photo's half-scale draft).
    """
    return raw_pixels(image, "Y")


#: Bytes a pixel in each packing :func:`raw_pixels` reads out of Pillow.
_RAW_PIXEL_BYTES = {"L": 1, "Y": 1, "RGB": 3}


def raw_pixels(
    image: Image.Image, rawmode: str, rows: tuple[int, int] | None = None
) -> NDArray[np.uint8]:
    """A band of a Pillow image's pixels as a read-only uint8 array, packed once.

    Parameters
    ----------
    image : Pillow image whose mode packs to ``rawmode`` ("L" from L, "Y" from YCbCr,
        "RGB" from RGB); it is loaded (decoded) first if it was not.
    rawmode : "L", "Y" or "RGB", Pillow's names for the packings.
    rows : ``(first, end)`` rows of the band; the whole image by default.

    Returns
    -------
    uint8 array ``(rows, W)`` for "L" and "Y", ``(rows, W, 3)`` for "RGB": the bytes
    ``image.crop(band).tobytes("raw", rawmode)`` gives, which is what ``np.asarray`` reads.

    Notes
    -----
    Why not ``np.asarray(image)``: it calls ``tobytes``, which packs the pixels 64 KiB
    at a time and joins the pieces, a second copy and a few dozen calls (about 1.5 ms for
    a 3 MP plane). Asking Pillow's raw encoder for the whole band at once packs it in one
    pass into one buffer, and a band needs no cropped copy first.
    """
    image.load()
    width = image.width
    first, end = rows or (0, image.height)
    channels = _RAW_PIXEL_BYTES[rawmode]
    shape = (end - first, width) if channels == 1 else (end - first, width, channels)
    if width == 0 or end <= first:
        return np.empty(shape, dtype=np.uint8)
    try:
        data = _packed_at_once(image, rawmode, first, end, channels)
    except (AttributeError, TypeError):  # a Pillow whose private encoder API changed
        band = image if rows is None else image.crop((0, first, width, end))
        data = band.tobytes("raw", rawmode)
    return np.frombuffer(data, dtype=np.uint8).reshape(shape)


def _packed_at_once(image: Image.Image, rawmode: str, first: int, end: int, channels: int) -> bytes:
    """Rows ``first`` to ``end`` packed by Pillow's raw encoder in one call.

    ``Image._getencoder`` is private: a Pillow release that renames it or changes its
    calls raises ``AttributeError`` or ``TypeError`` here, and :func:`raw_pixels` then
    takes the public, slower ``tobytes`` (the same bytes; tests/core/test_decode.py
    checks both), so an upgrade costs time, never a verdict.
    """
    width = image.width
    encoder = Image._getencoder(image.mode, "raw", (rawmode,))
    encoder.setimage(image.im, (0, first, width, end))
    pieces: list[bytes] = []
    status = 0
    while not status:  # one round: the buffer holds the whole band
        _, status, piece = encoder.encode(width * (end - first) * channels)
        pieces.append(piece)
    if status < 0:
        raise OSError(f"Pillow's raw encoder failed ({status})")
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


#: Long side of the nearest-neighbour sample on which blown colours are counted.
_CLIP_SAMPLE_SIDE = 500
#: A colour channel at or above this level is blown (JPEG noise keeps 255 a few levels off).
_BLOWN_LEVEL = 250


def blown_channel_shares(image: Image.Image) -> tuple[float, float] | None:
    """Shares of pixels with at least one, and at least two, colour channels blown.

    Parameters
    ----------
    image : Pillow image in mode ``YCbCr`` or ``RGB``, 8 bits per channel.

    Returns
    -------
    (one, two), each a share in [0, 1], ``one >= two``; ``None`` for any other mode
    (a grey image has no colour to blow).

    Notes
    -----
    A brightened photo clips its colour channels long before its luminance: a yellow
    flower blown to (255, 255, 120) is grey 240, and a x2.5 copy of a normal photo
    blows, in at least one channel, every pixel whose brightest channel was above 102.
    Counted on a nearest-neighbour sample of the decoded colour image (about 500 px
    long, a few hundred microseconds), so the only extra cost is decoding the chroma
    planes in the same pass.
    """
    if image.mode not in ("YCbCr", "RGB"):
        return None
    step = max(1, max(image.size) // _CLIP_SAMPLE_SIDE)
    sample = image.resize(
        (max(1, image.width // step), max(1, image.height // step)), Image.Resampling.NEAREST
    )
    rgb = raw_pixels(sample.convert("RGB") if sample.mode != "RGB" else sample, "RGB")
    blown = (rgb >= _BLOWN_LEVEL).view(np.uint8)
    channels = blown[..., 0] + blown[..., 1] + blown[..., 2]  # blown channels per pixel
    size = max(1, channels.size)
    return np.count_nonzero(channels) / size, np.count_nonzero(channels >= 2) / size


def eight_bit(pixels: NDArray[np.generic]) -> NDArray[np.uint8]:
    """8-bit samples: libheif hands a monochrome image of more than 8 bits over as 16-bit
    ones whatever ``convert_hdr_to_8bit`` asks (a 10-bit grey HEIF made OpenCV raise).

    Scaled as :func:`_wide_to_grey` scales 16-bit modes, a band of rows at a time.
    """
    if pixels.dtype == np.uint8:
        return pixels.view(np.uint8)
    out: NDArray[np.uint8] = np.empty(pixels.shape, dtype=np.uint8)
    rows = _band_rows(pixels[0].size)  # samples per row
    for top in range(0, pixels.shape[0], rows):
        out[top : top + rows] = _scaled_to_8bit(pixels[top : top + rows], 65535.0)
    return out


def writable_rgb(pixels: NDArray[np.generic]) -> RGBImage:
    """A writable uint8 RGB copy of decoded samples ``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)``.

    Grey is repeated into three channels, alpha dropped, wider samples scaled as
    :func:`eight_bit` scales them. One full-size copy, where Pillow's ``convert("RGB")`` of
    libheif's image and ``np.array`` of that made three (0.28 s of 0.83 s on a 29 MP
    HEIF grid) and clipped 16-bit grey to white.
    """
    eight = eight_bit(pixels)
    if eight.ndim == 2:
        return np.repeat(eight[:, :, None], 3, axis=2)
    return np.array(eight[..., :3], dtype=np.uint8)


def _scaled_to_8bit(samples: object, top: float) -> NDArray[np.uint8]:
    """Samples spanning 0-``top`` (an array, or a Pillow image) as uint8 0-255, in float32."""
    band = np.asarray(samples, np.float32)
    scaled: NDArray[np.uint8] = np.clip(band * (255.0 / top), 0, 255).astype(np.uint8)
    return scaled


def rgb_to_grey(pixels: NDArray[np.uint8]) -> GreyImage:
    """OpenCV's RGB(A)-to-grey, as :func:`to_grey`, read in place (no copy of the image)."""
    code = cv2.COLOR_RGBA2GRAY if pixels.shape[2] == 4 else cv2.COLOR_RGB2GRAY
    return np.asarray(cv2.cvtColor(pixels, code), dtype=np.uint8)


def _band_rows(width: int) -> int:
    return max(1, _BAND_PIXELS // max(width, 1))


def to_grey(image: Image.Image) -> GreyImage:
    """Luminance as uint8, whatever the mode (palette, alpha, CMYK, 16-bit, float)."""
    if image.mode in _WIDE_MODES:
        return _wide_to_grey(image)
    if image.mode == "L":
        return raw_pixels(image, "L")
    # Through RGB with OpenCV's weights and rounding, as the reference system reads a photo
    # (cv2.imread, then BGR to grey): Pillow's own "L" rounds differently on 1 pixel in
    # 10 000, enough to move a mean or a percentile across a threshold now and then.
    # A band of rows at a time: a whole-image RGB copy and its array would add
    # 10 bytes per pixel to the decoded image's 4.
    width, height = image.size
    grey: GreyImage = np.empty((height, width), dtype=np.uint8)
    for top, band in _rgb_bands(image):
        grey[top : top + band.shape[0]] = cv2.cvtColor(band, cv2.COLOR_RGB2GRAY)
    return grey


def _rgb_bands(image: Image.Image) -> Iterator[tuple[int, RGBImage]]:
    """``(first row, uint8 RGB (rows, W, 3))`` for bands of about :data:`_BAND_PIXELS` pixels.

    An RGB image (every undrafted JPEG) is packed a band at a time straight out of its
    pixels; any other mode is cropped and converted to RGB first.
    """
    if image.mode == "RGB":
        width, height = image.size
        rows = _band_rows(width)
        for top in range(0, height, rows):
            yield top, raw_pixels(image, "RGB", (top, min(top + rows, height)))
        return
    for top, band in _bands(image):
        yield top, raw_pixels(band.convert("RGB"), "RGB")


def _bands(image: Image.Image) -> Iterator[tuple[int, Image.Image]]:
    """``(first row, crop)`` for bands of about :data:`_BAND_PIXELS` pixels, top to bottom."""
    width, height = image.size
    rows = _band_rows(width)
    if rows >= height:  # one band: the image itself, not a copy of it
        yield 0, image
        return
    for top in range(0, height, rows):
        yield top, image.crop((0, top, width, min(top + rows, height)))


def _wide_to_grey(image: Image.Image) -> GreyImage:
    """Scale 16-bit, 32-bit or float samples to 0-255, a band of rows at a time.

    16-bit modes span 0-65535; 32-bit and float ones are taken as 0-255 unless a
    sample exceeds 255. A float copy of a whole near-limit image would be 400 MB.
    """
    if image.mode.startswith("I;16"):
        top = 65535.0
    else:
        extrema = image.getextrema()
        peak = extrema[1] if isinstance(extrema[1], (int, float)) else 0
        top = 65535.0 if float(peak) > 255 else 255.0
    width, height = image.size
    grey: GreyImage = np.empty((height, width), dtype=np.uint8)
    for row, crop in _bands(image):
        grey[row : row + crop.height] = _scaled_to_8bit(crop, top)
    return grey


def to_rgb(image: Image.Image) -> RGBImage:
    """uint8 RGB ``(H, W, 3)``; alpha is dropped, palette and grey are expanded."""
    if image.mode in _WIDE_MODES:
        return np.repeat(to_grey(image)[:, :, None], 3, axis=2)
    width, height = image.size
    rgb: RGBImage = np.empty((height, width, 3), dtype=np.uint8)
    for top, band in _rgb_bands(image):
        rgb[top : top + band.shape[0]] = band
    return rgb


#: A grey image at most this much larger than its scale is measured as it is: a 12 MP
#: JPEG's 1/2-scale draft is 2016 px for a 2000 px scale. Area-resampling by under 2.5 %
#: costs as much as a 4x reduction (OpenCV's path for a non-integer ratio: 5 ms on a
#: phone photo) and only adds a sub-pixel blur that varies along the image; the
#: thresholds move by the same 2.5 % at most (edge slope scales with 1 / size).
SCALE_SLACK = 1.025


def resize(grey: GreyImage, long_side: int, slack: float = 1.0) -> GreyImage:
    """Area-average down to ``long_side`` (never up), so a threshold means one thing.

    Works on grey ``(H, W)`` and colour ``(H, W, C)`` arrays alike; an image at most
    ``slack`` times ``long_side`` is returned as it is.
    """
    h, w = grey.shape[:2]
    if not long_side or max(h, w) <= long_side * slack:
        return grey
    scale = long_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(cv2.resize(grey, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def scaled(grey: GreyImage, fine: GreyImage | None, long_side: int) -> GreyImage:
    """The analysis image: half the finer one when that is twice the scale, else ``grey``'s.

    A 2x2 mean is OpenCV's fast integer path, where a ratio like 2016 -> 1000 takes its
    slow general one; both are area averages of the same decode.
    """
    if fine is not None and long_side:
        h, w = fine.shape[:2]
        if 2 * long_side <= max(h, w) <= 2 * long_side * SCALE_SLACK:
            size = (max(1, w // 2), max(1, h // 2))  # a 1 px side stays 1 px
            halved = cv2.resize(fine, size, interpolation=cv2.INTER_AREA)
            return np.asarray(halved, dtype=np.uint8)
    return resize(grey, long_side, SCALE_SLACK)


def orient(grey: GreyImage, orientation: int) -> GreyImage:
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
