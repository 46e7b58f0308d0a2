"""Valid but uncommon image files get a verdict, measured as the same photo would be.

Citizens upload from every kind of phone, camera and app. The interoperability audit of
2026-12-02 built each variant below (JPEG codings, subsamplings, colour spaces and
markers; PNG, WebP, TIFF, BMP and HEIF layouts and depths; EXIF, XMP and HEIF
orientations) and scored it under both built-in profiles. What it found:

* every TIFF with an orientation other than 1 was measured mirrored or upside down, and a
  quarter-turned one with its width and height swapped: Pillow turns a TIFF upright
  itself as it loads it, and the engine turned it again;
* a TIFF whose orientation only its XMP held (``tiff:Orientation``) was ``corrupt``, or
  made ``core.score`` raise ``SystemError`` when small: Pillow changes its size as it
  loads it, after the engine had read it;
* a 12-bit JPEG was ``corrupt`` ("cannot identify image file"): it is a valid file
  Pillow cannot decode, so now an ``unsupported_format`` that says so.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

import cv2
import numpy as np
import pillow_heif
import pytest
import tifffile
from PIL import Image

from bench.hostile_inputs import (
    ADAM7,
    MALFORMED_METADATA,
    MALFORMED_PNG_METADATA,
    jpeg_with_segments,
    mp_index,
    png_chunk,
    png_ihdr,
    png_with_chunks,
    tiff_image,
)
from core import ErrorCode, Outcome, builtin_profile, score
from core.decode import upright_rgb
from core.formats import ImageFormat
from tests.builders.images import RGB, exif_bytes, sharp_photo

PROFILES = ("default", "reference")
#: Most variants are small: their coding, not their size, is what is tested.
SMALL = (320, 240)
#: From 4000 px the default profile DCT-scales a JPEG (to at least 2000 px): the draft
#: asks libjpeg for another colour conversion, the path an RGB-coded JPEG failed.
LARGE = (4000, 3000)
#: The measured values of the pixel checks (not metadata, which reads the tags).
PIXEL_CHECKS = ("blur", "brightness", "exposure", "resolution", "compression")
XMP_ORIENTATION_6 = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/></rdf:RDF></x:xmpmeta>'
)

#: tifffile's extra tag: XMP (700), BYTE, its length, the packet, written once.
_XMP_TAG = (700, 1, len(XMP_ORIENTATION_6), XMP_ORIENTATION_6, True)


def _photo(size: tuple[int, int] = SMALL) -> RGB:
    return sharp_photo(*size)


def _stored(photo: RGB, orientation: int) -> RGB:
    """The pixels a camera stores so that ``orientation`` displays ``photo``."""
    turns: dict[int, Callable[[RGB], RGB]] = {
        1: lambda a: a,
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: np.rot90(a, 1),
        7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
        8: lambda a: np.rot90(a, -1),
    }
    return np.ascontiguousarray(turns[orientation](photo))


def _pil(image: RGB | Image.Image, fmt: str, **options: object) -> bytes:
    pil = image if isinstance(image, Image.Image) else Image.fromarray(image)
    buffer = io.BytesIO()
    pil.save(buffer, fmt, **options)
    return buffer.getvalue()


def _cv2_jpeg(photo: RGB, *flags: int) -> bytes:
    ok, buffer = cv2.imencode(
        ".jpg", cv2.cvtColor(photo, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92, *flags]
    )
    assert ok
    return bytes(buffer)


def _segments(jpeg: bytes) -> list[tuple[int, int, int]]:
    """``(marker, start, end)`` of each segment before the first scan."""
    found, at = [], 2
    while jpeg[at + 1] != 0xDA:
        end = at + 2 + struct.unpack_from(">H", jpeg, at + 2)[0]
        found.append((jpeg[at + 1], at, end))
        at = end
    return found


def _without(jpeg: bytes, marker: int) -> bytes:
    return (
        b"".join([jpeg[:2], *(jpeg[s:e] for m, s, e in _segments(jpeg) if m != marker)])
        + jpeg[_segments(jpeg)[-1][2] :]
    )


def _ycck_jpeg(photo: RGB) -> bytes:
    """An Adobe YCCK JPEG (transform 2), as Photoshop saves CMYK: Y, Cb, Cr of the inverted
    RGB, and K; Pillow writes the CMYK one (transform 0) whose samples are those."""
    y, cr, cb = cv2.split(cv2.cvtColor(255 - photo, cv2.COLOR_RGB2YCrCb))
    samples = np.dstack([y, cb, cr, np.full_like(y, 255)])
    jpeg = _pil(Image.fromarray(255 - samples, "CMYK"), "JPEG", quality=92)  # stored inverted
    (adobe,) = [end for marker, _, end in _segments(jpeg) if marker == 0xEE]
    return jpeg[: adobe - 1] + b"\x02" + jpeg[adobe:]  # the transform byte: YCCK


def _exif_with_thumbnail() -> bytes:
    import piexif

    thumbnail = _pil(sharp_photo(160, 120), "JPEG", quality=80)
    return bytes(
        piexif.dump(
            {
                "0th": {piexif.ImageIFD.Make: "Canon", piexif.ImageIFD.Orientation: 1},
                "1st": {piexif.ImageIFD.JPEGInterchangeFormat: 0},
                "thumbnail": thumbnail,
            }
        )
    )


def _mpo(photo: RGB) -> bytes:
    second = Image.fromarray(np.ascontiguousarray(photo[::-1]))
    return _pil(photo, "MPO", save_all=True, append_images=[second], quality=92)


def _png(pixels: np.ndarray, colour_type: int, *, depth: int = 8, adam7: bool = False) -> bytes:
    """A PNG written by hand: 16-bit samples and Adam7 interlacing, which Pillow cannot write."""
    height, width = pixels.shape[:2]
    samples = pixels.astype(">u2" if depth == 16 else "u1").reshape(height, width, -1)
    passes = ADAM7 if adam7 else ((0, 0, 1, 1),)
    raw = b"".join(
        b"\x00" + row.tobytes()
        for x, y, dx, dy in passes
        for row in samples[y::dy, x::dx]
        if row.size
    )
    header = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, int(adam7))
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(raw, 1))
        + png_chunk(b"IEND", b"")
    )


def _bmp_bitfields(photo: RGB, bits: int, *, top_down: bool = False) -> bytes:
    """A BI_BITFIELDS BMP (BITMAPV5HEADER): 32-bit XRGB or 16-bit 5-6-5."""
    height, width = photo.shape[:2]
    r, g, b = (photo[..., i].astype(np.uint32) for i in range(3))
    if bits == 32:
        masks = (0x00FF0000, 0x0000FF00, 0x000000FF, 0)
        pixels = (r << 16) | (g << 8) | b
        rows = [row.astype("<u4").tobytes() for row in pixels]
    else:
        masks = (0xF800, 0x07E0, 0x001F, 0)
        pixels = ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3)
        rows = [
            row.astype("<u2").tobytes().ljust((width * 2 + 3) // 4 * 4, b"\0") for row in pixels
        ]
    data = b"".join(rows if top_down else rows[::-1])
    info = struct.pack(
        "<IiiHHIIiiII",
        124,
        width,
        -height if top_down else height,
        1,
        bits,
        3,
        len(data),
        2835,
        2835,
        0,
        0,
    )
    info += struct.pack("<4I", *masks) + b"BGRs" + bytes(48) + struct.pack("<4I", 4, 0, 0, 0)
    offset = 14 + len(info)
    return b"BM" + struct.pack("<IHHI", offset + len(data), 0, 0, offset) + info + data


def _old_style_jpeg_tiff(photo: RGB) -> bytes:
    """A TIFF with Compression 6 (old-style JPEG): one JPEG stream, named by
    JPEGInterchangeFormat, as older scanners and cameras wrote them."""
    height, width = photo.shape[:2]
    jpeg = _pil(photo, "JPEG", quality=92, subsampling=0)
    jpeg += b"\0" * (len(jpeg) & 1)
    ifd_at = 8 + len(jpeg)
    entries = [  # tag, type, count, value (SHORT values left-aligned)
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 3, 0),  # BitsPerSample: patched to point past the directory
        (259, 3, 1, 6),
        (262, 3, 1, 6),
        (273, 4, 1, 8),
        (277, 3, 1, 3),
        (278, 4, 1, height),
        (279, 4, 1, len(jpeg)),
        (513, 4, 1, 8),
        (514, 4, 1, len(jpeg)),
        (530, 3, 2, 0x00010001),
    ]
    after = ifd_at + 2 + 12 * len(entries) + 4
    directory = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        value = after if tag == 258 else value
        packed = (
            struct.pack("<HH", value, 0) if kind == 3 and count == 1 else struct.pack("<I", value)
        )
        directory += struct.pack("<HHI", tag, kind, count) + packed
    return (
        b"II*\x00"
        + struct.pack("<I", ifd_at)
        + jpeg
        + directory
        + bytes(4)
        + struct.pack("<3H", 8, 8, 8)
    )


def _tifffile(pixels: np.ndarray, **options: object) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, pixels, **options)  # type: ignore[arg-type]
    return buffer.getvalue()


def _heif(photo: np.ndarray, mode: str | None = None, **options: object) -> bytes:
    if mode is None:
        heif = pillow_heif.from_pillow(Image.fromarray(photo))
    else:
        heif = pillow_heif.from_bytes(mode=mode, size=photo.shape[1::-1], data=photo.tobytes())
    buffer = io.BytesIO()
    heif.save(buffer, quality=90, **options)
    return buffer.getvalue()


def _alpha(photo: RGB, level: int = 200) -> np.ndarray:
    return np.dstack([photo, np.full(photo.shape[:2], level, np.uint8)])


def _grey(photo: RGB) -> Image.Image:
    return Image.fromarray(photo).convert("L")


def _twice(photo: RGB) -> list[Image.Image]:
    return [Image.fromarray(np.ascontiguousarray(photo[::-1]))]


def _jpeg(photo: RGB | Image.Image, **options: object) -> bytes:
    return _pil(photo, "JPEG", quality=92, **options)


def _sampled(factor: int) -> Callable[[RGB], bytes]:
    """A JPEG in OpenCV's chroma subsampling ``factor`` (4:4:0 and 4:1:1 too)."""
    return lambda photo: _cv2_jpeg(photo, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, factor)


def _exif_oriented(orientation: int) -> Callable[[RGB], bytes]:
    return lambda photo: _jpeg(
        _stored(photo, orientation), exif=exif_bytes(orientation=orientation)
    )


def _heif_oriented(orientation: int) -> Callable[[RGB], bytes]:
    return lambda photo: _heif(
        _stored(photo, orientation), exif=exif_bytes(orientation=orientation)
    )


#: Each variant: how to build it from the photo, and at what size (the displayed size).
VARIANTS: dict[str, tuple[Callable[[RGB], bytes], tuple[int, int]]] = {
    "jpeg-baseline": (_jpeg, SMALL),
    "jpeg-progressive": (lambda p: _jpeg(p, progressive=True), SMALL),
    "jpeg-optimized-huffman": (lambda p: _jpeg(p, optimize=True), SMALL),
    "jpeg-restart-blocks": (lambda p: _jpeg(p, restart_marker_blocks=1), SMALL),
    "jpeg-restart-rows": (lambda p: _cv2_jpeg(p, cv2.IMWRITE_JPEG_RST_INTERVAL, 1), SMALL),
    **{
        f"jpeg-{name}": (_sampled(factor), SMALL)
        for name, factor in [
            ("444", cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444),
            ("422", cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422),
            ("420", cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420),
            ("440", cv2.IMWRITE_JPEG_SAMPLING_FACTOR_440),
            ("411", cv2.IMWRITE_JPEG_SAMPLING_FACTOR_411),
        ]
    },
    "jpeg-grey": (lambda p: _pil(_grey(p), "JPEG", quality=92), SMALL),
    "jpeg-cmyk-adobe": (lambda p: _jpeg(Image.fromarray(p).convert("CMYK")), SMALL),
    "jpeg-cmyk-adobe-large": (lambda p: _jpeg(Image.fromarray(p).convert("CMYK")), LARGE),
    "jpeg-ycck-adobe": (_ycck_jpeg, SMALL),
    "jpeg-ycck-adobe-large": (_ycck_jpeg, LARGE),
    "jpeg-rgb-adobe": (lambda p: _jpeg(p, keep_rgb=True), SMALL),
    "jpeg-rgb-component-ids": (lambda p: _without(_jpeg(p, keep_rgb=True), 0xEE), LARGE),
    "jpeg-no-jfif-no-exif": (lambda p: _without(_jpeg(p), 0xE0), SMALL),
    **{f"jpeg-exif-orientation-{o}": (_exif_oriented(o), SMALL) for o in range(1, 9)},
    "jpeg-exif-orientation-6-large": (_exif_oriented(6), LARGE),
    "jpeg-icc-multi-segment": (lambda p: _jpeg(p, icc_profile=bytes(200_000)), SMALL),
    "jpeg-exif-thumbnail": (lambda p: _jpeg(p, exif=_exif_with_thumbnail()), SMALL),
    "jpeg-mpo": (_mpo, SMALL),
    "jpeg-trailing-garbage": (lambda p: _jpeg(p) + b"\x00garbage" * 100, SMALL),
    "jpeg-comment": (lambda p: _jpeg(p, comment=b"a camera app"), SMALL),
    "jpeg-1px-wide": (_jpeg, (1, 1200)),
    "jpeg-17x13": (_jpeg, (17, 13)),
    "jpeg-65500x16-grey": (lambda p: _pil(_grey(p), "JPEG", quality=92), (65_500, 16)),
    "png-palette-trns": (
        lambda p: _pil(Image.fromarray(p).quantize(256), "PNG", transparency=0),
        SMALL,
    ),
    "png-grey": (lambda p: _pil(_grey(p), "PNG"), SMALL),
    "png-grey-alpha": (lambda p: _pil(_grey(p).convert("LA"), "PNG"), SMALL),
    "png-rgb16": (lambda p: _png(p.astype(np.uint16) * 257, 2, depth=16), SMALL),
    "png-rgba16": (lambda p: _png(_alpha(p, 255).astype(np.uint16) * 257, 6, depth=16), SMALL),
    "png-adam7": (lambda p: _png(p, 2, adam7=True), SMALL),
    "png-exif-orientation-6": (
        lambda p: _pil(_stored(p, 6), "PNG", exif=exif_bytes(orientation=6)),
        SMALL,
    ),
    "png-apng": (
        lambda p: _pil(Image.fromarray(p), "PNG", save_all=True, append_images=_twice(p)),
        SMALL,
    ),
    "webp-lossy": (lambda p: _pil(p, "WEBP", quality=90), SMALL),
    "webp-lossless": (lambda p: _pil(p, "WEBP", lossless=True), SMALL),
    "webp-alpha": (lambda p: _pil(_alpha(p), "WEBP", quality=90), SMALL),
    "webp-animated": (
        lambda p: _pil(Image.fromarray(p), "WEBP", save_all=True, append_images=_twice(p)),
        SMALL,
    ),
    "webp-exif-orientation-8": (
        lambda p: _pil(_stored(p, 8), "WEBP", quality=90, exif=exif_bytes(orientation=8)),
        SMALL,
    ),
    "tiff-uncompressed": (lambda p: _pil(p, "TIFF"), SMALL),
    "tiff-lzw": (lambda p: _pil(p, "TIFF", compression="tiff_lzw"), SMALL),
    "tiff-deflate": (lambda p: _pil(p, "TIFF", compression="tiff_adobe_deflate"), SMALL),
    "tiff-packbits": (lambda p: _pil(p, "TIFF", compression="packbits"), SMALL),
    "tiff-jpeg-new-style": (lambda p: _pil(p, "TIFF", compression="jpeg", quality=92), SMALL),
    "tiff-jpeg-old-style": (_old_style_jpeg_tiff, SMALL),
    "tiff-tiled": (lambda p: _tifffile(p, tile=(64, 64), compression="zlib"), SMALL),
    "tiff-planar": (
        lambda p: _tifffile(np.moveaxis(p, -1, 0), planarconfig="separate", photometric="rgb"),
        SMALL,
    ),
    "tiff-multi-page": (
        lambda p: _pil(Image.fromarray(p), "TIFF", save_all=True, append_images=_twice(p)),
        SMALL,
    ),
    "tiff-rgb16": (lambda p: _tifffile(p.astype(np.uint16) * 257, photometric="rgb"), SMALL),
    "tiff-cmyk": (lambda p: _pil(Image.fromarray(p).convert("CMYK"), "TIFF"), SMALL),
    "tiff-orientation-6": (lambda p: _pil(_stored(p, 6), "TIFF", tiffinfo={274: 6}), SMALL),
    "tiff-orientation-6-lzw": (
        lambda p: _pil(_stored(p, 6), "TIFF", tiffinfo={274: 6}, compression="tiff_lzw"),
        SMALL,
    ),
    "tiff-xmp-orientation-6": (
        lambda p: _tifffile(_stored(p, 6), photometric="rgb", extratags=[_XMP_TAG]),
        SMALL,
    ),
    "bmp-palette-8": (lambda p: _pil(Image.fromarray(p).quantize(256), "BMP"), SMALL),
    "bmp-16-bitfields": (lambda p: _bmp_bitfields(p, 16), SMALL),
    "bmp-24": (lambda p: _pil(p, "BMP"), SMALL),
    "bmp-32-bitfields": (lambda p: _bmp_bitfields(p, 32), SMALL),
    "bmp-32-top-down": (lambda p: _bmp_bitfields(p, 32, top_down=True), SMALL),
    "heif-8bit": (_heif, SMALL),
    "heif-10bit": (lambda p: _heif(p.astype(np.uint16) * 257, "RGB;16"), SMALL),
    "heif-alpha": (lambda p: _heif(_alpha(p)), SMALL),
    "heif-exif": (lambda p: _heif(p, exif=exif_bytes()), SMALL),
    # pillow-heif writes the EXIF orientation as the container's irot and imir.
    **{f"heif-orientation-{o}-irot-imir": (_heif_oriented(o), SMALL) for o in (2, 6, 7)},
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_every_valid_variant_gets_a_verdict_at_its_displayed_size(name: str) -> None:
    build, (width, height) = VARIANTS[name]
    data = build(_photo((width, height)))
    for profile in PROFILES:
        verdict = score(data, builtin_profile(profile))
        assert verdict.verdict is not Outcome.ERROR, (profile, verdict.error)
        assert verdict.image is not None
        assert (verdict.image.width, verdict.image.height) == (width, height), profile


def _pixel_values(data: bytes) -> dict[str, object]:
    """Each profile's measured values of the pixel checks, and the displayed size."""
    found: dict[str, object] = {}
    for profile in PROFILES:
        verdict = score(data, builtin_profile(profile))
        assert verdict.image is not None, verdict.error
        found[profile] = (verdict.image.width, verdict.image.height)
        for check in PIXEL_CHECKS:
            if check in verdict.checks:
                found[f"{profile}.{check}"] = verdict.checks[check].values
    return found


@pytest.mark.parametrize("orientation", [2, 3, 4, 5, 6, 7, 8])
@pytest.mark.parametrize("compression", [None, "tiff_lzw"])
def test_a_tiff_is_turned_upright_once(orientation: int, compression: str | None) -> None:
    # Before: Pillow turned the TIFF upright as it loaded it and the engine turned it again
    # (orientation 6: 240x320 reported for a 320x240 photo, its pixels upside down).
    photo = _photo()
    options = {} if compression is None else {"compression": compression}
    upright = _pil(photo, "TIFF", **options)
    oriented = _pil(_stored(photo, orientation), "TIFF", tiffinfo={274: orientation}, **options)
    assert _pixel_values(oriented) == _pixel_values(upright)
    # The redacted copy is drawn on the same upright pixels.
    rgb = upright_rgb(oriented, ImageFormat.TIFF, max_pixels=100_000_000)
    np.testing.assert_array_equal(rgb, photo)


@pytest.mark.parametrize("size", [(160, 120), (1600, 1200)])
def test_a_tiff_oriented_only_by_its_xmp_is_scored_upright(size: tuple[int, int]) -> None:
    # Before: Pillow turned it as it loaded it, after the engine had cut its rows by the
    # size at open: 1600x1200 was corrupt ("could not broadcast"), 160x120 made
    # core.score raise SystemError ("tile cannot extend outside image").
    photo = _photo(size)
    oriented = _tifffile(_stored(photo, 6), photometric="rgb", extratags=[_XMP_TAG])
    assert _pixel_values(oriented) == _pixel_values(_tifffile(photo, photometric="rgb"))
    rgb = upright_rgb(oriented, ImageFormat.TIFF, max_pixels=100_000_000)
    np.testing.assert_array_equal(rgb, photo)


def _twelve_bit_jpeg(width: int, height: int) -> bytes:
    """A valid 12-bit extended-sequential JPEG (SOF1): 16-bit quantisation table, one-code
    Huffman tables, every block flat (two zero bits, libjpeg's fill for missing data)."""

    def segment(marker: int, body: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body

    one_code = bytes([1] + [0] * 15 + [0])
    return (
        b"\xff\xd8"
        + segment(0xDB, b"\x10" + struct.pack(">64H", *[1] * 64))
        + segment(0xC4, b"\x00" + one_code + b"\x10" + one_code)
        + segment(0xC1, struct.pack(">BHHB", 12, height, width, 1) + bytes([1, 0x11, 0]))
        + segment(0xDA, bytes([1, 1, 0x00, 0, 63, 0]))
        + bytes(width * height // 256 + 8)
        + b"\xff\xd9"
    )


def test_a_12_bit_jpeg_is_an_unsupported_format_not_a_damaged_one() -> None:
    # Before: corrupt, "cannot read the jpeg header: cannot identify image file <...>".
    for profile in PROFILES:
        verdict = score(_twelve_bit_jpeg(64, 48), builtin_profile(profile))
        assert verdict.error is not None
        assert verdict.error.code is ErrorCode.UNSUPPORTED_FORMAT
        assert verdict.error.message == "12-bit JPEG is not supported: send an 8-bit JPEG"


@pytest.mark.parametrize("declared", [3, 0xFFFF_FFFF])
def test_a_jpeg_with_a_malformed_multi_picture_index_is_scored_as_its_first_picture(
    declared: int,
) -> None:
    # Before: corrupt ("cannot identify image file"): Pillow reads the APP2 index to make
    # an MPO of the file, and an index declaring more pictures than it lists made it
    # refuse the whole file, whose first picture decodes.
    jpeg = _jpeg(_photo())
    indexed = jpeg_with_segments([(0xFFE2, mp_index(declared, 2))], jpeg)
    assert _pixel_values(indexed) == _pixel_values(jpeg)
    # The redacted copy reads it the same way.
    copy, expected = (upright_rgb(d, ImageFormat.JPEG, max_pixels=10**8) for d in (indexed, jpeg))
    np.testing.assert_array_equal(copy, expected)


@pytest.mark.parametrize("name", list(MALFORMED_METADATA))
def test_a_jpeg_with_malformed_metadata_that_libjpeg_does_not_read_is_scored(name: str) -> None:
    # Before: corrupt ("cannot read the jpeg header: index out of range" or "unpack_from
    # requires a buffer of at least 7 bytes"): Pillow parses these segments as it opens
    # a JPEG; libjpeg, which decodes the picture, ignores them.
    jpeg = _jpeg(_photo(LARGE))
    damaged = jpeg_with_segments([MALFORMED_METADATA[name]], jpeg)
    assert _pixel_values(damaged) == _pixel_values(jpeg)
    copy, expected = (upright_rgb(d, ImageFormat.JPEG, max_pixels=10**8) for d in (damaged, jpeg))
    np.testing.assert_array_equal(copy, expected)


def test_a_jpeg_refused_for_its_pixels_is_still_corrupt() -> None:
    # The second reading without the metadata is no way round a damaged frame header.
    jpeg = jpeg_with_segments([MALFORMED_METADATA["jfif-5-bytes"]], _jpeg(_photo()))
    sof = jpeg.index(b"\xff\xc0")
    damaged = jpeg[: sof + 4] + b"\x10" + jpeg[sof + 5 :]  # 16-bit samples: no such JPEG
    for profile in PROFILES:
        verdict = score(damaged, builtin_profile(profile))
        assert verdict.error is not None
        assert verdict.error.code is ErrorCode.CORRUPT
        assert "cannot handle 16-bit layers" in verdict.error.message


@pytest.mark.parametrize("name", list(MALFORMED_PNG_METADATA))
def test_a_png_with_a_malformed_ancillary_chunk_scoring_does_not_use_is_scored(name: str) -> None:
    # Before: corrupt ("Truncated pHYs chunk", "cannot identify image file"): Pillow
    # parses these chunks as it opens a PNG; the PNG standard lets a decoder ignore an
    # ancillary chunk in error, and scoring uses none of them.
    png = _pil(_photo((1600, 1200)), "PNG")
    damaged = png_with_chunks([MALFORMED_PNG_METADATA[name]], png)
    assert _pixel_values(damaged) == _pixel_values(png)
    copy, expected = (upright_rgb(d, ImageFormat.PNG, max_pixels=10**8) for d in (damaged, png))
    np.testing.assert_array_equal(copy, expected)


@pytest.mark.parametrize(
    "entry",
    [(700, 3, 2, 0), (700, 5, 1, 0), (700, 11, 1, 0xFFFF_FFFF), (40965, 4, 1, 8)],
    ids=["xmp-typed-short", "xmp-typed-rational", "xmp-typed-float", "interop-without-exif"],
)
def test_a_tiff_whose_metadata_pillow_raised_on_is_scored(entry: tuple[int, int, int, int]) -> None:
    # Before: core.score raised (TypeError "expected string or bytes-like object", or
    # KeyError 40965) from Pillow's load, after the pixels were decoded: no verdict.
    damaged, plain = tiff_image(640, 480, extra=[entry]), tiff_image(640, 480)
    assert _pixel_values(damaged) == _pixel_values(plain)
    copy, expected = (upright_rgb(d, ImageFormat.TIFF, max_pixels=10**8) for d in (damaged, plain))
    np.testing.assert_array_equal(copy, expected)


def test_a_tiff_oriented_by_an_xmp_tag_typed_ascii_is_still_turned() -> None:
    # Pillow decodes an ASCII tag to str and searched it with a bytes pattern (TypeError).
    photo = _photo()
    xmp = XMP_ORIENTATION_6.decode()
    ascii_xmp = (700, 2, len(xmp) + 1, xmp, True)
    oriented = _tifffile(_stored(photo, 6), photometric="rgb", extratags=[ascii_xmp])
    assert _pixel_values(oriented) == _pixel_values(_tifffile(photo, photometric="rgb"))


@pytest.mark.parametrize("transparency", [False, True], ids=["no-trns", "trns"])
def test_a_palette_png_without_its_palette_is_corrupt(transparency: bool) -> None:
    # Before: with a tRNS chunk core.score raised (AssertionError in Pillow's conversion
    # to RGB); without, Pillow made grey of the indices and the photo was scored.
    rows = bytes(range(65)) * 48  # a filter byte, then 64 palette indices, per row
    chunks = [png_ihdr(64, 48, colour=3)]
    chunks += [png_chunk(b"tRNS", b"\x00")] if transparency else []
    chunks += [png_chunk(b"IDAT", zlib.compress(rows)), png_chunk(b"IEND", b"")]
    data = b"\x89PNG\r\n\x1a\n" + b"".join(chunks)
    for profile in PROFILES:
        verdict = score(data, builtin_profile(profile))
        assert verdict.error is not None
        assert verdict.error.code is ErrorCode.CORRUPT
        assert verdict.error.message == "the png image is indexed but has no palette"
