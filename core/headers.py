"""What a container's headers announce, read before any decoder sees the bytes.

Why: some decoders allocate from the header alone (libwebp's canvas, libpng's
rows), so the pixel limit and the decode budget must be applied first. Every
read here is bounded: a fixed number of header bytes, or (JPEG) at most
:data:`MAX_JPEG_SEGMENTS` marker segments plus one C-speed count of scan markers.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace

from core.budget import MAX_TILES, JpegFrame
from core.deflate import DeflateStream
from core.errors import CorruptImageError, TooComplexError, UnsupportedFormatError
from core.ifd import (
    DirectorySpec,
    Value,
    first_directory_arrays,
    first_directory_counts,
    read_directories,
)

#: Marker segments before the first scan; real JPEGs have a few dozen.
MAX_JPEG_SEGMENTS = 4096

_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_PROGRESSIVE_SOF = frozenset({0xC2, 0xC6, 0xCA, 0xCE})
_ARITHMETIC_SOF = frozenset({0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_LOSSLESS_SOF = frozenset({0xC3, 0xC7, 0xCB, 0xCF})
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})
#: Bytes of junk or 0xFF fill allowed between marker segments (real files: a handful).
MAX_JPEG_GAP = 65_536
#: Photoshop resource blocks ("8BIM") in the segments before the first scan: Pillow
#: parses each in Python (2.5 M blocks in 480 APP13 segments: 1.3 s); real files hold
#: a few dozen.
MAX_PHOTOSHOP_BLOCKS = 10_000
#: A marker: 0xFF followed by a byte that is neither fill (0xFF) nor a stuffed zero.
_MARKER = re.compile(rb"\xff([\x01-\xfe])")


#: PNG chunks up to IEND. Pillow handles each one in Python (about 2 us each,
#: measured: 2 million empty private chunks took 5 s); a 32 MB PNG written in
#: 8 KiB IDAT chunks has 4000.
MAX_PNG_CHUNKS = 100_000


#: Samples per pixel of each PNG colour type (grey, RGB, palette, grey + alpha, RGBA).
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def png_size(data: bytes) -> tuple[int, int] | None:
    if len(data) >= 24 and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return None


def png_scanline_bytes(data: bytes) -> int | None:
    """Bytes the image data inflates to (filter bytes included), from IHDR alone.

    A 16-bit RGBA pixel is 8 of them, however Pillow stores it; Adam7 interlacing
    adds a filter byte per pass row, left out here.
    """
    if len(data) < 26 or data[12:16] != b"IHDR":
        return None
    width, height, depth, colour = struct.unpack_from(">IIBB", data, 16)
    channels = _PNG_CHANNELS.get(colour)
    if channels is None:
        return None
    row: int = 1 + (width * channels * depth + 7) // 8
    return int(height) * row


#: Text and ICC chunks whose body holds a zlib stream after a header. Pillow inflates
#: each at open (or at the end of the image data) up to 1 MiB, its ``MAX_TEXT_CHUNK``.
_PNG_TEXT_INFLATE = 1 << 20
#: Compressed text and ICC chunks (zTXt, compressed iTXt, iCCP). Pillow inflates each up
#: to 1 MiB, about 2.3 ms of zlib, and caps text at 64 MiB in all but not ICC profiles:
#: 20 000 iCCP chunks of 1 KiB, each a zlib stream of 1 MiB of zeros, took 45 s of CPU
#: (2000: 4.7 s). A photo has one ICC profile and a few text chunks, mostly uncompressed.
MAX_PNG_COMPRESSED_CHUNKS = 64


def png_deflate_streams(data: bytes) -> list[DeflateStream]:
    """The zlib streams Pillow inflates: the image data (IDAT chunks, up to the rows IHDR
    announces), then each compressed text or ICC chunk up to IEND.

    Raises :class:`TooComplexError` past :data:`MAX_PNG_CHUNKS` chunks or
    :data:`MAX_PNG_COMPRESSED_CHUNKS` compressed text and ICC chunks.
    """
    image: list[tuple[int, int]] = []
    streams: list[DeflateStream] = []
    for kind, at, length in _png_chunks(data):
        body = (at + 8, min(at + 8 + length, len(data)))
        if kind == b"IDAT":
            image.append((body[0], body[1] - body[0]))
        else:
            start = _png_zlib_start(data, kind, *body)
            if start is not None:
                streams.append(DeflateStream([(start, body[1] - start)], _PNG_TEXT_INFLATE))
                if len(streams) > MAX_PNG_COMPRESSED_CHUNKS:
                    raise TooComplexError(
                        f"over {MAX_PNG_COMPRESSED_CHUNKS} compressed text or ICC chunks in a PNG"
                    )
    _, height = png_size(data) or (0, 0)
    # Adam7 adds at most two bytes (a filter byte and a partial byte) per pass row.
    limit = (png_scanline_bytes(data) or 0) + 4 * height + (1 << 16)
    return [DeflateStream(image, limit), *streams]


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """``(type, offset, length)`` of each chunk before IEND; raises
    :class:`TooComplexError` past :data:`MAX_PNG_CHUNKS` chunks."""
    at, chunks = 8, 0
    while at + 8 <= len(data):
        chunks += 1
        if chunks > MAX_PNG_CHUNKS:
            raise TooComplexError(f"over {MAX_PNG_CHUNKS} PNG chunks")
        length, kind = struct.unpack_from(">I4s", data, at)
        if kind == b"IEND":
            return
        yield kind, at, length
        at += 12 + length


#: Ancillary PNG chunks that Pillow parses as it opens a file and scoring does not use:
#: colour management, density, and a transparency key that grey and RGB pixels drop.
#: The PNG standard lets a decoder ignore an ancillary chunk it finds in error.
_PILLOW_ONLY_PNG = frozenset({b"iCCP", b"gAMA", b"cHRM", b"sRGB", b"pHYs", b"tRNS"})
#: A private, ancillary, safe-to-copy chunk type of ours, which every reader skips.
_SKIPPED_PNG = b"cqMt"


def png_without_pillow_only_metadata(data: bytes) -> bytes | None:
    """A copy of a PNG whose chunks in :data:`_PILLOW_ONLY_PNG` are renamed to a chunk
    every reader skips (their CRCs written anew); ``None`` when it holds none.

    Pillow refuses a PNG whose gAMA, sRGB, pHYs or tRNS chunk is too short or whose
    iCCP chunk has no name, though the image data decode.
    """
    renamed: bytearray | None = None
    for kind, at, length in _png_chunks(data):
        if kind in _PILLOW_ONLY_PNG and at + 12 + length <= len(data):
            renamed = renamed if renamed is not None else bytearray(data)
            renamed[at + 4 : at + 8] = _SKIPPED_PNG
            crc = zlib.crc32(memoryview(data)[at + 8 : at + 8 + length], zlib.crc32(_SKIPPED_PNG))
            struct.pack_into(">I", renamed, at + 8 + length, crc)
    return None if renamed is None else bytes(renamed)


def _png_zlib_start(data: bytes, kind: bytes, start: int, end: int) -> int | None:
    """Where a zTXt, iCCP or compressed iTXt chunk's zlib stream starts; ``None`` for
    every other chunk (keyword, then a compression method byte, for iTXt also a flag
    and two text fields)."""
    if kind not in (b"zTXt", b"iCCP", b"iTXt"):
        return None
    keyword_end = data.find(b"\x00", start, min(end, start + 80))
    if keyword_end < 0:
        return None
    if kind != b"iTXt":
        return keyword_end + 2 if keyword_end + 2 < end else None
    if keyword_end + 3 > end or data[keyword_end + 1] != 1:  # uncompressed text
        return None
    language_end = data.find(b"\x00", keyword_end + 3, end)
    translated_end = data.find(b"\x00", language_end + 1, end) if language_end >= 0 else -1
    return translated_end + 1 if translated_end >= 0 else None


def webp_size(data: bytes) -> tuple[int, int] | None:
    """The canvas (VP8X) or bitstream (VP8, VP8L) size of the first chunk, as libwebp reads it."""
    kind, body = data[12:16], data[20:40]
    if kind == b"VP8X" and len(body) >= 10:
        return 1 + int.from_bytes(body[4:7], "little"), 1 + int.from_bytes(body[7:10], "little")
    if kind == b"VP8L" and len(body) >= 5 and body[0] == 0x2F:
        bits = int.from_bytes(body[1:5], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if kind == b"VP8 " and len(body) >= 10 and body[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack_from("<HH", body, 6)
        return width & 0x3FFF, height & 0x3FFF
    return None


_WIDTH, _HEIGHT, _STRIP_OFFSETS, _TILE_OFFSETS = 0x0100, 0x0101, 0x0111, 0x0144
_TIFF_SIZE = DirectorySpec(tags=frozenset({_WIDTH, _HEIGHT}), follow={})


def tiff_layout(data: bytes) -> tuple[int, int, int] | None:
    """Width, height and the number of strips or tiles of a TIFF's first image.

    Pillow builds its tile list at open, one Python object per strip or tile, so
    both are checked first.
    """
    ifd0 = read_directories(data, _TIFF_SIZE).get("0th", {})
    width, height = ifd0.get(_WIDTH), ifd0.get(_HEIGHT)
    if not (isinstance(width, tuple) and isinstance(height, tuple) and width and height):
        return None
    if not (isinstance(width[0], int) and isinstance(height[0], int)):
        return None
    counts = first_directory_counts(data, frozenset({_STRIP_OFFSETS, _TILE_OFFSETS}))
    return width[0], height[0], max(counts.values(), default=1)


_COMPRESSION, _BITS, _SAMPLES, _ROWS_PER_STRIP, _STRIP_BYTES = (
    0x0103,
    0x0102,
    0x0115,
    0x0116,
    0x0117,
)
_TILE_WIDTH, _TILE_LENGTH, _TILE_BYTES = 0x0142, 0x0143, 0x0145
#: Compressions libtiff inflates with zlib: Adobe deflate, and the older deflate code.
_TIFF_DEFLATE = frozenset({8, 32946})
_TIFF_CODING = DirectorySpec(
    tags=frozenset(
        {_WIDTH, _HEIGHT, _COMPRESSION, _BITS, _SAMPLES, _ROWS_PER_STRIP, _TILE_WIDTH, _TILE_LENGTH}
    ),
    follow={},
)


@dataclass(frozen=True, slots=True)
class TiffCoding:
    """How a TIFF's first image is compressed, and what decoding it will inflate."""

    compression: int
    #: Bytes of its samples once decompressed (SamplesPerPixel x BitsPerSample, every pixel).
    sample_bytes: int
    #: Its strips' or tiles' zlib streams, when it is deflate-compressed.
    streams: list[DeflateStream]


def tiff_coding(data: bytes) -> TiffCoding | None:
    """The compression, decompressed size and deflate streams of a TIFF's first image."""
    ifd0 = read_directories(data, _TIFF_CODING).get("0th", {})
    width, height = _first(ifd0, _WIDTH, 0), _first(ifd0, _HEIGHT, 0)
    bits = ifd0.get(_BITS)
    depth = (
        max((v for v in bits if isinstance(v, int)), default=1) if isinstance(bits, tuple) else 1
    )
    samples, compression = _first(ifd0, _SAMPLES, 1), _first(ifd0, _COMPRESSION, 1)
    if not width or not height:
        return None
    sample_bytes = height * -(-width * samples * depth // 8)
    if compression not in _TIFF_DEFLATE:
        return TiffCoding(compression, sample_bytes, [])
    tiles = _first(ifd0, _TILE_WIDTH, 0), _first(ifd0, _TILE_LENGTH, 0)
    columns, rows = tiles if all(tiles) else (width, _first(ifd0, _ROWS_PER_STRIP, height))
    # Each strip or tile is a zlib stream that libtiff inflates up to its own size.
    limit = min(rows, height) * -(-columns * samples * depth // 8)
    where = _TILE_OFFSETS if all(tiles) else _STRIP_OFFSETS
    sizes = _TILE_BYTES if all(tiles) else _STRIP_BYTES
    arrays = first_directory_arrays(data, frozenset({where, sizes}), MAX_TILES + 1)
    streams = [
        DeflateStream([(offset, min(size, len(data) - offset))], limit)
        for offset, size in zip(arrays.get(where, ()), arrays.get(sizes, ()), strict=False)
        if offset < len(data)
    ]
    return TiffCoding(compression, sample_bytes, streams)


def _first(values: dict[int, Value], tag: int, default: int) -> int:
    """The first element of an integer tag's value, or ``default``."""
    value = values.get(tag)
    first = value[0] if isinstance(value, tuple) and value else default
    return first if isinstance(first, int) else default


def jpeg_frame(data: bytes) -> JpegFrame | None:
    """The frame header and scan count of a JPEG; ``None`` when there is no frame header.

    Junk and ``0xFF`` fill between segments are skipped as libjpeg and Pillow skip
    them, so they cannot hide the frame from these checks. Raises
    :class:`TooComplexError` past :data:`MAX_JPEG_SEGMENTS` segments (standalone
    markers count) or :data:`MAX_PHOTOSHOP_BLOCKS` Photoshop resources,
    :class:`CorruptImageError` past :data:`MAX_JPEG_GAP` bytes of junk or fill, and
    :class:`UnsupportedFormatError` for lossless and 12-bit JPEG.
    """
    frame, first_scan = _walk_segments(data)
    # Pillow parses every segment before the first scan (or to the end, without one).
    if data.count(b"8BIM", 0, len(data) if first_scan is None else first_scan) > (
        MAX_PHOTOSHOP_BLOCKS
    ):
        raise TooComplexError(f"over {MAX_PHOTOSHOP_BLOCKS} Photoshop resource blocks")
    if first_scan is None:
        return frame
    return None if frame is None else _scanned(data, first_scan, frame)


def _walk_segments(data: bytes) -> tuple[JpegFrame | None, int | None]:
    """The frame header (without its scans) and the offset of the first SOS, if any."""
    frame = None
    for marker, at, length in _segments(data):
        if marker in _LOSSLESS_SOF:
            raise UnsupportedFormatError("lossless JPEG is not supported: send a baseline JPEG")
        if marker in _SOF:
            frame = _frame(data, at + 4, length, marker)
        elif marker == 0xDA:
            return frame, at
    return frame, None


def _segments(data: bytes) -> Iterator[tuple[int, int, int]]:
    """``(marker, offset, length)`` of each segment up to the first SOS (length 0 for a
    standalone marker), with the limits :func:`jpeg_frame` documents."""
    at, segments, gap = 2, 0, 0
    while at + 4 <= len(data):
        found = _MARKER.search(data, at, at + MAX_JPEG_GAP + 2 - gap)
        if found is None:
            if len(data) - at > MAX_JPEG_GAP - gap:
                raise CorruptImageError(
                    f"over {MAX_JPEG_GAP} bytes of junk or padding between JPEG marker segments"
                )
            return
        # Pillow walks junk and fill a byte at a time, in Python.
        gap += found.start() - at
        at, marker = found.start(), found.group(1)[0]
        segments += 1
        if segments > MAX_JPEG_SEGMENTS:
            raise TooComplexError(f"over {MAX_JPEG_SEGMENTS} JPEG marker segments before the image")
        if marker in _STANDALONE:
            yield marker, at, 0
            at += 2
            continue
        if at + 4 > len(data):
            return
        (length,) = struct.unpack_from(">H", data, at + 2)
        yield marker, at, length
        if marker == 0xDA:
            return
        at += 2 + length


#: APPn segments that Pillow's JPEG reader parses when it opens a file and libjpeg
#: never reads, by marker and the prefix that names them, with the length (marker's
#: length field included) from which libjpeg reads them: any for ICC chunks and
#: Photoshop resources; a JFIF segment from 16 bytes and an Adobe one from 14.
_PILLOW_ONLY_APP = (
    (0xE2, b"ICC_PROFILE\x00", 0x10000),
    (0xED, b"Photoshop 3.0\x00", 0x10000),
    (0xE0, b"JFIF", 16),
    (0xEE, b"Adobe", 14),
)
_APP15 = 0xEF


def jpeg_without_pillow_only_metadata(data: bytes) -> bytes | None:
    """A copy of a JPEG whose metadata that only Pillow reads is renamed APP15; ``None``
    when it holds none.

    Pillow parses ICC chunks, Photoshop resources and the JFIF and Adobe segments as
    it opens a JPEG, and refuses the file when one is malformed (an ICC chunk without
    its number, a resource cut after its code, a 5-byte JFIF segment), though libjpeg
    decodes the picture: it ignores them (ICC, Photoshop) or skips a segment too short
    to be its JFIF or Adobe one. Renamed APP15, of the same length, both skip them, and
    libjpeg decodes what it would have decoded. EXIF and XMP are left as they are.
    """
    renamed: bytearray | None = None
    for marker, at, length in _segments(data):
        if any(
            marker == app and length < below and data.startswith(prefix, at + 4)
            for app, prefix, below in _PILLOW_ONLY_APP
        ):
            renamed = renamed if renamed is not None else bytearray(data)
            renamed[at + 1] = _APP15
    return None if renamed is None else bytes(renamed)


def _scanned(data: bytes, at: int, frame: JpegFrame) -> JpegFrame:
    """``frame`` with what its first scan (SOS at ``at``) says about buffering, and the scans.

    libjpeg keeps every coefficient and decodes every scan up to EOI when the file
    is progressive, or when its first scan holds fewer components than the frame
    (a sequential JPEG in several scans): only then do the scans cost.
    """
    in_scan = data[at + 4] if at + 4 < len(data) else len(frame.sampling)
    multi_scan = not frame.progressive and in_scan < len(frame.sampling)
    buffered = frame.progressive or multi_scan
    scans = data.count(b"\xff\xda", at) if buffered else 1
    return replace(frame, scans=scans, multi_scan=multi_scan, entropy_bytes=len(data) - at)


def _frame(data: bytes, at: int, length: int, marker: int) -> JpegFrame:
    if length < 8 or at + length - 2 > len(data):
        raise CorruptImageError("the JPEG frame header is truncated")
    precision, height, width, components = struct.unpack_from(">BHHB", data, at)
    if precision == 12:
        # Pillow reads 8-bit samples only: its open said "cannot identify image file", and
        # a valid 12-bit photo (medical, scientific and some raw-camera previews) was
        # answered as damaged.
        raise UnsupportedFormatError("12-bit JPEG is not supported: send an 8-bit JPEG")
    if components == 0 or length < 8 + 3 * components:
        raise CorruptImageError("the JPEG frame header has no valid components")
    sampling = tuple(
        (max(1, data[at + 7 + 3 * i] >> 4), max(1, data[at + 7 + 3 * i] & 0x0F))
        for i in range(components)
    )
    progressive, arithmetic = marker in _PROGRESSIVE_SOF, marker in _ARITHMETIC_SOF
    return JpegFrame(width, height, progressive, sampling, scans=0, arithmetic=arithmetic)
