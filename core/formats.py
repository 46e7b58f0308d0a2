"""Image format detection from the leading bytes: never from a file name or a client's claim."""

from __future__ import annotations

from enum import StrEnum


class ImageFormat(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    HEIF = "heif"
    TIFF = "tiff"
    BMP = "bmp"


#: ISO-BMFF major brands of HEVC-coded (HEIC) images and sequences.
_HEVC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"})
#: ISO-BMFF major brands of still images libheif can decode: HEIC, and the generic HEIF
#: brands, unless their compatible brands say the content is AV1 (:func:`_is_heif`).
_HEIF_BRANDS = _HEVC_BRANDS | {b"mif1", b"msf1"}
#: Compatible brands of AVIF: AV1 content, which this build of libheif has no decoder for.
_AVIF_BRANDS = frozenset({b"avif", b"avis"})

#: Conventional file extension and media type per format, for object keys and HTTP answers.
EXTENSIONS: dict[ImageFormat, str] = {
    ImageFormat.JPEG: "jpg",
    ImageFormat.PNG: "png",
    ImageFormat.WEBP: "webp",
    ImageFormat.HEIF: "heic",
    ImageFormat.TIFF: "tiff",
    ImageFormat.BMP: "bmp",
}
MEDIA_TYPES: dict[ImageFormat, str] = {
    ImageFormat.JPEG: "image/jpeg",
    ImageFormat.PNG: "image/png",
    ImageFormat.WEBP: "image/webp",
    ImageFormat.HEIF: "image/heic",
    ImageFormat.TIFF: "image/tiff",
    ImageFormat.BMP: "image/bmp",
}

#: Bytes :func:`sniff_format` needs to decide; a streaming upload can sniff its first chunk.
SNIFF_BYTES = 32


def sniff_format(head: bytes) -> ImageFormat | None:
    """Return the format announced by the magic bytes in ``head``, or ``None``.

    Only the first :data:`SNIFF_BYTES` bytes are looked at, so callers that stream
    an upload can decide before they have the whole body.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return ImageFormat.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageFormat.PNG
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ImageFormat.WEBP
    if _is_heif(head):
        return ImageFormat.HEIF
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return ImageFormat.TIFF
    if head.startswith(b"BM") and len(head) >= 14:
        return ImageFormat.BMP
    return None


def _is_heif(head: bytes) -> bool:
    """An ``ftyp`` box naming a HEIF brand libheif decodes here.

    A generic major brand (``mif1``, ``msf1``) with ``avif`` among the compatible brands
    read (those within ``head``) and no HEVC one is an AVIF file: without this it was
    sniffed as HEIF and answered ``corrupt`` once libheif found no AV1 decoder, where a
    citizen should read that the format is not supported.
    """
    if len(head) < 12 or head[4:8] != b"ftyp" or head[8:12] not in _HEIF_BRANDS:
        return False
    if head[8:12] in _HEVC_BRANDS:
        return True
    end = min(len(head), int.from_bytes(head[:4], "big"))
    compatible = {head[i : i + 4] for i in range(16, end - 3, 4)}
    return not compatible & _AVIF_BRANDS or bool(compatible & _HEVC_BRANDS)
