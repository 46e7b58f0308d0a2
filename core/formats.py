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


#: ISO-BMFF brands that identify HEIC/HEIF/AVIF-like still images libheif can decode.
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})

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
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return ImageFormat.HEIF
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return ImageFormat.TIFF
    if head.startswith(b"BM") and len(head) >= 14:
        return ImageFormat.BMP
    return None
