"""Decoding: formats from bytes, orientation, bombs, odd modes, one decode at analysis scale."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from core import pixels
from core.decode import decode_image
from core.errors import (
    CorruptImageError,
    EmptyImageError,
    TooManyPixelsError,
    UnsupportedFormatError,
)
from core.formats import ImageFormat, sniff_format
from core.pixels import raw_pixels
from tests.builders.images import encode, exif_bytes, png_header_only, sharp_photo

LIMIT = 100_000_000


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("JPEG", ImageFormat.JPEG),
        ("PNG", ImageFormat.PNG),
        ("WEBP", ImageFormat.WEBP),
        ("HEIF", ImageFormat.HEIF),
        ("TIFF", ImageFormat.TIFF),
        ("BMP", ImageFormat.BMP),
    ],
)
def test_every_supported_format_decodes_to_the_same_geometry(
    fmt: str, expected: ImageFormat
) -> None:
    data = encode(sharp_photo(1200, 900), fmt)
    assert sniff_format(data[:32]) is expected
    image = decode_image(data, max_pixels=LIMIT, analysis_long_side=1000)
    assert image.format is expected
    assert (image.width, image.height) == (1200, 900)
    assert image.grey.dtype == np.uint8
    assert image.grey.shape == (750, 1000)
    # Same photo, same luminance, whatever the container (lossy ones within a few levels).
    reference = decode_image(
        encode(sharp_photo(1200, 900), "PNG"), max_pixels=LIMIT, analysis_long_side=1000
    )
    assert abs(float(image.grey.mean()) - float(reference.grey.mean())) < 3.0


def test_jpeg_is_decoded_at_reduced_dct_scale_but_reports_full_size() -> None:
    data = encode(sharp_photo(4000, 3000))
    image = decode_image(data, max_pixels=LIMIT, analysis_long_side=1000)
    assert (image.width, image.height) == (4000, 3000)
    assert image.grey.shape == (750, 1000)
    assert image.quantization is not None and 0 in image.quantization
    assert image.full_grey is None  # only lossless containers keep a full-size copy


def test_full_resolution_when_analysis_scale_is_zero() -> None:
    image = decode_image(encode(sharp_photo(1200, 900)), max_pixels=LIMIT, analysis_long_side=0)
    assert image.grey.shape == (900, 1200)


@pytest.mark.parametrize("orientation", [1, 2, 3, 4, 5, 6, 7, 8])
def test_exif_orientation_is_applied_like_pillow(orientation: int) -> None:
    pixels = sharp_photo(800, 600)
    data = encode(pixels, "PNG", exif=exif_bytes(orientation=orientation))
    image = decode_image(data, max_pixels=LIMIT, analysis_long_side=0)
    with Image.open(io.BytesIO(data)) as pil:
        # Grey as the reference system makes it: RGB through OpenCV's weights.
        upright = np.asarray(ImageOps.exif_transpose(pil).convert("RGB"))
        expected = cv2.cvtColor(upright, cv2.COLOR_RGB2GRAY)
    assert image.orientation == orientation
    assert (image.height, image.width) == expected.shape
    np.testing.assert_array_equal(image.grey, expected)


def test_header_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(TooManyPixelsError, match="100000x100000"):
        decode_image(png_header_only(100_000, 100_000), max_pixels=LIMIT, analysis_long_side=1000)


def test_pixel_limit_is_configurable() -> None:
    data = encode(sharp_photo(1200, 900))
    with pytest.raises(TooManyPixelsError):
        decode_image(data, max_pixels=1_000_000, analysis_long_side=1000)
    assert decode_image(data, max_pixels=1_080_000, analysis_long_side=1000).width == 1200


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", EmptyImageError),
        (b"this is a text file named photo.jpg\n", UnsupportedFormatError),
        (b"GIF89a" + b"\x00" * 40, UnsupportedFormatError),
    ],
)
def test_non_images_raise_typed_errors(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        decode_image(data, max_pixels=LIMIT, analysis_long_side=1000)


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    """An ISO-BMFF ``ftyp`` box, then zeros (which lie outside it: not brands)."""
    body = major + bytes(4) + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + bytes(64)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (_ftyp(b"mif1", b"mif1", b"miaf", b"avif"), None),  # AVIF under a generic brand
        (_ftyp(b"msf1", b"msf1", b"avis"), None),  # an AVIF sequence
        (_ftyp(b"avif", b"mif1", b"avif"), None),
        (_ftyp(b"mif1", b"mif1", b"heic"), ImageFormat.HEIF),
        (_ftyp(b"mif1", b"mif1", b"miaf"), ImageFormat.HEIF),
        (_ftyp(b"mif1", b"avif", b"heic"), ImageFormat.HEIF),  # HEVC too: libheif decodes it
        (_ftyp(b"heic", b"mif1", b"avif"), ImageFormat.HEIF),
    ],
)
def test_avif_is_told_apart_from_heif_whatever_its_major_brand(
    head: bytes, expected: ImageFormat | None
) -> None:
    assert sniff_format(head[:32]) is expected


def test_an_avif_file_is_an_unsupported_format_not_a_damaged_one() -> None:
    with pytest.raises(UnsupportedFormatError):
        decode_image(
            _ftyp(b"mif1", b"mif1", b"miaf", b"avif"), max_pixels=LIMIT, analysis_long_side=1000
        )


def test_truncated_jpeg_is_corrupt() -> None:
    data = encode(sharp_photo(1200, 900))
    with pytest.raises(CorruptImageError, match="damaged"):
        decode_image(data[: len(data) // 3], max_pixels=LIMIT, analysis_long_side=1000)


@pytest.mark.parametrize("mode", ["CMYK", "I;16", "P", "RGBA", "LA", "1"])
def test_unusual_modes_give_a_grey_image(mode: str) -> None:
    rgb = Image.fromarray(sharp_photo(900, 700))
    if mode == "I;16":
        converted = Image.fromarray(np.asarray(rgb.convert("L"), dtype=np.uint16) * 257)
    else:
        converted = rgb.convert(mode)
    buffer = io.BytesIO()
    converted.save(buffer, "TIFF" if mode in ("CMYK", "I;16") else "PNG")
    image = decode_image(buffer.getvalue(), max_pixels=LIMIT, analysis_long_side=0)
    assert image.grey.shape == (700, 900)
    assert image.grey.dtype == np.uint8
    assert 20 < float(image.grey.mean()) < 235


@pytest.mark.parametrize("size", [(4000, 3000), (900, 700)])
def test_colour_clip_reads_the_same_grey_plane_as_a_grey_decode(size: tuple[int, int]) -> None:
    """Asking for the blown-colour share switches the draft from L to YCbCr; Y must not move."""
    data = encode(sharp_photo(*size))
    grey_only = decode_image(data, max_pixels=LIMIT, analysis_long_side=1000)
    with_clip = decode_image(data, max_pixels=LIMIT, analysis_long_side=1000, colour_clip=True)
    assert grey_only.colour_clip is None
    assert with_clip.colour_clip is not None and 0 <= with_clip.colour_clip < 0.2
    assert with_clip.grey.shape == grey_only.grey.shape
    assert np.array_equal(with_clip.grey, grey_only.grey)


def test_colour_clip_is_none_for_grey_jpegs_and_other_formats() -> None:
    photo = sharp_photo(1600, 1200)
    grey_jpeg = _grey_jpeg(photo)
    for data in (grey_jpeg, encode(photo, "PNG")):
        image = decode_image(data, max_pixels=LIMIT, analysis_long_side=1000, colour_clip=True)
        assert image.colour_clip is None


def _grey_jpeg(photo: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(photo).convert("L").save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("mode", "rawmode", "channels"), [("L", "L", 1), ("YCbCr", "Y", 1), ("RGB", "RGB", 3)]
)
@pytest.mark.parametrize("rows", [None, (0, 1), (37, 120), (119, 120)])
def test_raw_pixels_are_pillows_bytes_packed_at_once(
    mode: str, rawmode: str, channels: int, rows: tuple[int, int] | None
) -> None:
    """One pass of the raw encoder gives what cropping then ``tobytes`` gives, and so
    what ``np.asarray`` reads, for a band of rows or the whole image."""
    image = Image.fromarray(sharp_photo(173, 120)).convert(mode)
    first, end = rows or (0, image.height)
    band = image.crop((0, first, image.width, end))
    expected = np.frombuffer(band.tobytes("raw", rawmode), dtype=np.uint8)
    pixels = raw_pixels(image, rawmode, rows)
    shape = (end - first, 173) if channels == 1 else (end - first, 173, channels)
    assert pixels.dtype == np.uint8 and pixels.shape == shape
    assert np.array_equal(pixels.ravel(), expected)
    if rawmode != "Y":
        assert np.array_equal(pixels, np.asarray(band))
    else:  # the luma plane is the image's first band
        assert np.array_equal(pixels, np.asarray(band.getchannel(0)))
    assert pixels.std() > 10  # a real photo, not a constant


@pytest.mark.parametrize("rows", [None, (37, 120)])
def test_raw_pixels_without_pillows_private_encoder_are_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch, rows: tuple[int, int] | None
) -> None:
    """A Pillow whose private encoder calls changed (``tobytes`` uses them too, so the
    change is made where we call them) costs time, not a verdict: the public ``tobytes``
    gives the same pixels."""
    image = Image.fromarray(sharp_photo(173, 120)).convert("YCbCr")
    fast = raw_pixels(image, "Y", rows)
    for error in (AttributeError, TypeError):

        def changed(*args: object, error: type[Exception] = error) -> bytes:
            raise error("Pillow changed")

        monkeypatch.setattr(pixels, "_packed_at_once", changed)
        assert np.array_equal(raw_pixels(image, "Y", rows), fast)
    assert fast.std() > 10


def test_raw_pixels_decode_an_unloaded_jpeg_like_asarray() -> None:
    """Reading pixels loads (decodes) a lazily opened image first, as ``np.asarray`` does."""
    data = encode(sharp_photo(640, 480))
    with Image.open(io.BytesIO(data)) as lazy, Image.open(io.BytesIO(data)) as reference:
        assert np.array_equal(raw_pixels(lazy, "RGB"), np.asarray(reference))


def _rgb_coded_jpeg(width: int, height: int, *, adobe_marker: bool) -> bytes:
    """A JPEG that stores R, G and B, not YCbCr: libjpeg's ``cjpeg -rgb``, Photoshop's kind.

    libjpeg writes it with an Adobe segment (transform 0) and components named R, G, B;
    without the segment libjpeg still knows it by those names.
    """
    out = io.BytesIO()
    Image.fromarray(sharp_photo(width, height)).save(out, "JPEG", quality=92, keep_rgb=True)
    data = out.getvalue()
    if adobe_marker:
        return data
    start = data.index(b"\xff\xee")  # APP14
    return data[:start] + data[start + 2 + int.from_bytes(data[start + 2 : start + 4], "big") :]


@pytest.mark.parametrize("adobe_marker", [True, False])
@pytest.mark.parametrize("size", [(1600, 1200), (4000, 3000)])
def test_an_rgb_coded_jpeg_is_read_not_reported_damaged(
    size: tuple[int, int], adobe_marker: bool
) -> None:
    # Asking libjpeg for YCbCr out of RGB-coded data fails the decode: this valid photo
    # was an error verdict, "the jpeg data is damaged", at any size the profile drafts.
    data = _rgb_coded_jpeg(*size, adobe_marker=adobe_marker)
    image = decode_image(
        data, max_pixels=LIMIT, analysis_long_side=1000, fine_long_side=2000, colour_clip=True
    )
    with Image.open(io.BytesIO(data)) as pil:
        assert pil.info.get("adobe_transform") == (0 if adobe_marker else None)
        pil.draft(None, (size[0] // 2, size[1] // 2) if size[0] > 2000 else None)
        expected = cv2.cvtColor(np.asarray(pil.convert("RGB")), cv2.COLOR_RGB2GRAY)
    assert image.fine_grey is not None
    np.testing.assert_array_equal(image.fine_grey, expected)
    assert image.colour_clip is not None and image.channel_clip is not None


@pytest.mark.parametrize("size", [(1600, 1200), (4000, 3000)])
def test_a_jpeg_grey_is_its_luma_plane_at_every_size(size: tuple[int, int]) -> None:
    # A small JPEG decodes at full scale and a large one DCT-scaled; both are read as
    # libjpeg's Y plane, so one photo is measured alike at either size.
    data = encode(sharp_photo(*size))
    image = decode_image(
        data, max_pixels=LIMIT, analysis_long_side=1000, fine_long_side=2000, colour_clip=True
    )
    with Image.open(io.BytesIO(data)) as pil:
        pil.draft("YCbCr", (size[0] // 2, size[1] // 2) if size[0] > 2000 else None)
        luma = np.asarray(pil.getchannel(0))
    assert image.fine_grey is not None
    np.testing.assert_array_equal(image.fine_grey, luma)
