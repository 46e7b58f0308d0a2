"""Structurally valid images with hostile fields, one generator family per input class.

Random byte mutation (tests/core/test_hostile_input.py) almost never builds a
well-formed container around a hostile field, so it never reaches the code that
trusts that field. Each generator here builds a container a decoder accepts
(right magic, lengths, CRCs, chunk order) and puts the hostility in one field
that a parser would trust: a 32-bit count, an offset, a loop, a compressed size,
a scan or frame count, a dimension.

Every generator is a function of a seeded :class:`numpy.random.Generator`, so a
seed reproduces a case. :func:`hostile_inputs` walks every generator of every
family; :func:`exif_count_bomb` is issue 11's reproduction. The tests, the
``bench.hostile`` fuzzer and the stream tests all draw from here.
"""

from __future__ import annotations

import io
import lzma
import struct
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image

from core.budget import MAX_LZMA_BYTES

Rng = np.random.Generator


@dataclass(frozen=True, slots=True)
class HostileInput:
    """One generated input: its class (``family``), which generator made it, and the bytes."""

    family: str
    generator: str
    data: bytes


Generator = Callable[[Rng], bytes]

# --- carriers: small valid images to wrap hostile fields in ----------------------------


@cache
def _pixels(width: int, height: int) -> bytes:
    """Smooth gradient plus texture: compresses like a photo, decodes to a real image."""
    y, x = np.mgrid[0:height, 0:width]
    texture = (np.sin(x / 7.0) * np.cos(y / 5.0) * 60).astype(np.int32)
    base = np.stack([(x * 255) // max(width, 1), (y * 255) // max(height, 1), 128 + texture], -1)
    pixels: bytes = np.clip(base, 0, 255).astype(np.uint8).tobytes()
    return pixels


def carrier(width: int = 320, height: int = 240) -> Image.Image:
    return Image.frombytes("RGB", (width, height), _pixels(width, height))


def saved(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with_chunks(before_idat: Sequence[bytes], png: bytes | None = None) -> bytes:
    """Insert whole chunks (from :func:`png_chunk`) right after IHDR."""
    png = png if png is not None else saved(carrier(), "PNG")
    end_of_ihdr = 8 + 8 + 13 + 4
    return png[:end_of_ihdr] + b"".join(before_idat) + png[end_of_ihdr:]


def jpeg_with_segments(segments: Sequence[tuple[int, bytes]], jpeg: bytes | None = None) -> bytes:
    """Insert marker segments (marker, body <= 65533 bytes) right after SOI."""
    jpeg = jpeg if jpeg is not None else saved(carrier(), "JPEG", quality=85)
    inserted = b"".join(
        struct.pack(">HH", marker, len(body[:65533]) + 2) + body[:65533]
        for marker, body in segments
    )
    return jpeg[:2] + inserted + jpeg[2:]


# --- EXIF / TIFF structures --------------------------------------------------------------

_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_WANTED_TAGS = (0x010F, 0x0110, 0x0112, 0x0132, 0x8769, 0x8825, 0x829A, 0x829D, 0x8827, 0x9003)
_MAKERNOTE = 0x927C

Entry = tuple[int, int, int, int]  # tag, type, count, value-or-offset


def ifd(entries: Sequence[Entry], next_offset: int = 0, endian: str = ">") -> bytes:
    """One directory: count, 12-byte entries, next-IFD offset (values inline or pre-placed)."""
    body = struct.pack(endian + "H", len(entries))
    for tag, kind, count, value in entries:
        body += struct.pack(endian + "HHII", tag, kind, count, value)
    return body + struct.pack(endian + "I", next_offset)


def tiff_header(first_ifd: int = 8, endian: str = ">") -> bytes:
    return (b"MM\x00*" if endian == ">" else b"II*\x00") + struct.pack(endian + "I", first_ifd)


def exif_count_bomb() -> bytes:
    """Issue 11's reproduction: a 1000x700 JPEG whose IFD0 holds one entry, Make
    (0x010F), type SHORT, count 0x3FFFFFFF, offset 26."""
    block = b"Exif\x00\x00" + tiff_header() + ifd([(0x010F, 3, 0x3FFFFFFF, 26)])
    noise = np.random.default_rng(11).integers(0, 256, (700, 1000, 3), dtype=np.uint8)
    return saved(Image.fromarray(noise), "JPEG", quality=90, exif=block)


def _huge_count_block(rng: Rng) -> bytes:
    tags = rng.choice(_WANTED_TAGS, size=int(rng.integers(1, 6)))
    entries = [
        (int(tag), int(rng.choice(list(_TYPE_SIZES))), int(rng.integers(2**24, 2**32)), 26)
        for tag in sorted(tags)
    ]
    return tiff_header() + ifd(entries) + bytes(64)


def _offset_out_of_block(rng: Rng) -> bytes:
    entries = [
        (int(tag), 2, int(rng.integers(5, 4096)), int(rng.integers(2**20, 2**32)))
        for tag in sorted(set(rng.choice(_WANTED_TAGS, size=4).tolist()))
    ]
    return tiff_header() + ifd(entries)


def _ifd_loop(rng: Rng) -> bytes:
    """Every pointer (Exif, GPS, Interop, next IFD) leads back into an already seen IFD."""
    target = int(rng.choice([8, 8 + 2 + 12 * 3 + 4]))
    first = ifd([(0x8769, 4, 1, target), (0x8825, 4, 1, 8), (0x0112, 3, 1, 6 << 16)], target)
    second = ifd([(0xA005, 4, 1, 8), (0x8769, 13, 1, target), (0x8825, 4, 1, target)], 8)
    return tiff_header() + first + second


def _nested_chain(rng: Rng) -> bytes:
    """A long chain of sub-IFDs, each pointing to the next through Exif/GPS/Interop tags."""
    depth = int(rng.integers(50, 2000))
    size = 2 + 12 * 3 + 4
    block = tiff_header()
    for level in range(depth):
        nxt = 8 + (level + 1) * size
        block += ifd([(0x8769, 4, 1, nxt), (0x8825, 4, 1, nxt), (0xA005, 4, 1, nxt)], nxt)
    return block


def _huge_makernote(rng: Rng) -> bytes:
    """A MakerNote almost as large as the block, itself shaped like a TIFF with a count bomb."""
    length = int(rng.integers(60_000, 65_000))
    inner = tiff_header() + ifd([(0x010F, 3, 0x3FFFFFFF, 26)] * 100)
    note = (inner * (length // len(inner) + 1))[:length]
    data_at = 8 + 2 + 12 * 2 + 4
    exif_at = data_at + len(note)
    head = ifd([(0x8769, 4, 1, exif_at), (0x010F, 2, 6, data_at)], 0)
    exif = ifd([(_MAKERNOTE, 7, len(note), data_at), (0x9003, 2, 0xFFFFFFFF, data_at)], 0)
    return tiff_header() + head + note + exif


def _many_entries(rng: Rng) -> bytes:
    """A directory declaring 65535 entries, each a valid wanted tag with an in-block value."""
    tags = rng.choice(_WANTED_TAGS, size=65535).astype(">u2")
    table = np.zeros((65535, 6), dtype=">u2")
    table[:, 0], table[:, 1], table[:, 3], table[:, 4] = tags, 2, 4, 0x4142
    return tiff_header() + struct.pack(">H", 65535) + table.tobytes() + bytes(4)


def _type_confusion(rng: Rng) -> bytes:
    """Wanted tags with the wrong types and degenerate values (zero denominators, NaN-like)."""
    data_at = 8 + 2 + 12 * 8 + 4
    values = struct.pack(">8I", 0, 0, 1, 0, 0xFFFFFFFF, 0, 7, 0)
    entries = [
        (0x0112, int(rng.choice([5, 2, 10, 12])), 1, data_at),
        (0x8769, 3, 1, 0xFFFF0000),
        (0x8825, 4, 1, data_at),
        (0x010F, 5, 4, data_at),
        (0x0110, 12, 4, data_at),
        (0x829A, 2, 4, 0),
        (0x829D, 10, 4, data_at),
        (0x8827, 4, 4, data_at),
    ]
    return tiff_header() + ifd(entries) + values


_EXIF_BLOCKS: dict[str, Generator] = {
    "huge-count": _huge_count_block,
    "offset-out-of-block": _offset_out_of_block,
    "ifd-loop": _ifd_loop,
    "nested-chain": _nested_chain,
    "huge-makernote": _huge_makernote,
    "65535-entries": _many_entries,
    "type-confusion": _type_confusion,
}


def _exif_in(block: bytes, rng: Rng) -> bytes:
    """Wrap an EXIF block in a JPEG (if it fits an APP1 segment), a PNG, a WebP or a TIFF."""
    carriers = ["png", "webp", "tiff"] + (["jpeg"] if len(block) <= 65_000 else [])
    kind = str(rng.choice(carriers))
    if kind == "jpeg":
        return jpeg_with_segments([(0xFFE1, b"Exif\x00\x00" + block)])
    if kind == "png":
        return png_with_chunks([png_chunk(b"eXIf", block)])
    if kind == "webp":
        return saved(carrier(), "WEBP", quality=80, exif=b"Exif\x00\x00" + block)
    return _tiff_with_ifd0_of(block)


def _tiff_with_ifd0_of(block: bytes) -> bytes:
    """A TIFF file that starts with ``block`` and whose image IFD points into it.

    The block keeps its place at offset 0, so its own offsets stay valid; the file's
    header is re-pointed at a valid grey image IFD appended after it, whose Exif and
    GPS pointers lead to the block's (hostile) first directory.
    """
    (hostile,) = struct.unpack_from(">I", block, 4)
    pointers = [(0x8769, 4, 1, hostile), (0x8825, 4, 1, hostile)]
    return tiff_image(64, 48, extra=pointers, prefix=block)


def image_entries(
    width: int,
    height: int,
    strip: tuple[int, int] | None,
    *,
    compression: int = 1,
    extra: Sequence[Entry] = (),
) -> list[Entry]:
    """IFD0 entries of an 8-bit grey image in one strip ``(offset, bytes)``, or none.

    SHORT values are left-justified in the 4-byte field (big-endian). ``extra``
    entries replace the image's entry for their tag, or are added.
    """
    own = {
        0x0100: (0x0100, 4, 1, width),
        0x0101: (0x0101, 4, 1, height),
        0x0102: (0x0102, 3, 1, 8 << 16),
        0x0103: (0x0103, 3, 1, compression << 16),
        0x0106: (0x0106, 3, 1, 1 << 16),
        0x0115: (0x0115, 3, 1, 1 << 16),
    }
    if strip is not None:
        own[0x0111] = (0x0111, 4, 1, strip[0])
        own[0x0116] = (0x0116, 4, 1, height)
        own[0x0117] = (0x0117, 4, 1, strip[1])
    own.update({entry[0]: entry for entry in extra})
    return sorted(own.values())


def tiff_image(
    width: int,
    height: int,
    *,
    extra: Sequence[Entry] = (),
    prefix: bytes = b"",
    next_offset: int = 0,
) -> bytes:
    """An uncompressed 8-bit grey big-endian TIFF laid out as [prefix][pixels][IFD0].

    ``prefix`` (at least 8 bytes) keeps its place, so offsets inside it stay valid;
    its first 8 bytes are replaced by the file header. ``extra`` entries join the
    image's own; an extra tag replaces the image's entry for that tag.
    """
    prefix = prefix if len(prefix) >= 8 else bytes(8)
    pixels = _pixels(width, height)[::3][: width * height]
    strip_at = len(prefix)
    entries = image_entries(width, height, (strip_at, len(pixels)), extra=extra)
    ifd_at = strip_at + len(pixels)
    directory = ifd(entries, next_offset)
    return tiff_header(ifd_at) + prefix[8:] + pixels + directory


def exif_generators() -> dict[str, Generator]:
    """Each EXIF block generator, wrapped in a JPEG, PNG, WebP or TIFF carrier."""

    def wrapped(block: Generator) -> Generator:
        return lambda rng: _exif_in(block(rng), rng)

    return {name: wrapped(block) for name, block in _EXIF_BLOCKS.items()}


# --- compression bombs ---------------------------------------------------------------


def zeros_zlib(length: int) -> bytes:
    """A zlib stream of ``length`` zero bytes, built in milliseconds for any length.

    After a full flush deflate's state is reset, so each further MiB of zeros
    compresses to the same bytes; the Adler-32 of n zeros is ``(n mod 65521) << 16 | 1``.
    """
    mib = bytes(1 << 20)
    whole, rest = divmod(length, 1 << 20)
    if whole < 2:
        return zlib.compress(bytes(length), 9)
    compressor = zlib.compressobj(9)
    first = compressor.compress(mib) + compressor.flush(zlib.Z_FULL_FLUSH)
    steady = compressor.compress(mib) + compressor.flush(zlib.Z_FULL_FLUSH)
    body = first + steady * (whole - 1) + compressor.compress(bytes(rest)) + compressor.flush()
    return body[:-4] + struct.pack(">I", ((length % 65521) << 16) | 1)


def _deflate_bits(fields: Sequence[tuple[int, int]]) -> bytes:
    """Pack ``(value, bit count)`` fields as deflate does, least significant bit first."""
    acc = sum(value << shift for (value, _), shift in zip(fields, _offsets(fields), strict=True))
    bits = sum(count for _, count in fields)
    return acc.to_bytes((bits + 7) // 8, "little")


def _offsets(fields: Sequence[tuple[int, int]]) -> list[int]:
    offsets, at = [], 0
    for _, count in fields:
        offsets.append(at)
        at += count
    return offsets


def _empty_dynamic_block() -> list[tuple[int, int]]:
    """A non-final dynamic-Huffman block that codes nothing but its end: 92 bits.

    Its literal/length code has one symbol (end of block, length 1) and its distance
    code none, which zlib accepts; the code-length code is 18 -> "0", 0 -> "01" and
    1 -> "11" (bits reversed, as Huffman codes are sent first bit first).
    """
    order = (16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1)
    lengths = {18: 1, 0: 2, 1: 2}
    return [
        (0, 1),  # not the last block
        (2, 2),  # dynamic Huffman codes
        (0, 5),  # 257 literal/length codes
        (0, 5),  # 1 distance code
        (14, 4),  # 18 code-length codes
        *((lengths.get(symbol, 0), 3) for symbol in order),
        (0, 1),
        (127, 7),  # symbol 18: 138 zero lengths
        (0, 1),
        (107, 7),  # symbol 18: 118 more (literals 0-255)
        (3, 2),  # symbol 1: end of block has length 1
        (1, 2),  # symbol 0: the one distance code is unused
        (0, 1),  # the block's only symbol: end of block
    ]


#: Two empty dynamic blocks: 184 bits, so whole bytes that can be repeated.
_EMPTY_BLOCK_PAIR = _deflate_bits(_empty_dynamic_block() * 2)


def deflate_padding(blocks: int) -> bytes:
    """About ``blocks`` empty dynamic deflate blocks (11.5 bytes each, an even count),
    then an empty stored block: byte-aligned raw deflate that inflates to nothing.

    zlib builds each block's Huffman tables before finding it empty, about 1 us a
    block, so 32 MB of them cost a decoder over 2 s and produce no pixel.
    """
    return _EMPTY_BLOCK_PAIR * max(1, blocks // 2) + b"\x00\x00\x00\xff\xff"


def padded_zlib(data: bytes, blocks: int, at: int = 0) -> bytes:
    """A zlib stream of ``data`` with :func:`deflate_padding` inserted after ``data[:at]``."""
    compressor = zlib.compressobj(6, wbits=-15)
    head = compressor.compress(data[:at]) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.compress(data[at:]) + compressor.flush()
    body = head + deflate_padding(blocks) + tail
    return b"\x78\x9c" + body + struct.pack(">I", zlib.adler32(data))


def _bomb_size(rng: Rng) -> int:
    return int(rng.choice([1 << 21, 1 << 24, 1 << 27, 1 << 30, 1 << 32]))


# --- PNG -------------------------------------------------------------------------------


def png_ihdr(width: int, height: int, depth: int = 8, colour: int = 2) -> bytes:
    return png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0))


def png_image(
    width: int, height: int, depth: int, colour: int, extra: Sequence[bytes] = ()
) -> bytes:
    """A valid all-zero PNG of any size: its IDAT is a zlib bomb of exactly the right length."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    row = 1 + (width * channels * depth + 7) // 8
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_ihdr(width, height, depth, colour)
        + b"".join(extra)
        + png_chunk(b"IDAT", zeros_zlib(row * height))
        + png_chunk(b"IEND", b"")
    )


#: Adam7's passes: (first column, first row, column step, row step).
ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)


def repeated_zlib(runs: Sequence[tuple[bytes, int]]) -> bytes:
    """A zlib stream of each ``(row, count)`` run's row repeated ``count`` times, in milliseconds.

    A full flush resets deflate's state, so a block of rows compresses to the same bytes
    every time: each block is compressed once and its bytes repeated.
    """
    compressor = zlib.compressobj(9, wbits=-15)
    body, adler = [b"\x78\xda"], 1
    for row, count in runs:
        per_block = max(1, (1 << 20) // max(1, len(row)))
        whole, rest = divmod(count, per_block)
        block = row * per_block
        body.append(compressor.compress(row * rest) + compressor.flush(zlib.Z_FULL_FLUSH))
        if whole:
            body.append((compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)) * whole)
        for _ in range(whole):
            adler = zlib.adler32(block, adler)
        adler = zlib.adler32(row * rest, adler)
    return b"".join(body) + compressor.flush() + struct.pack(">I", adler)


def png_filtered(
    width: int, height: int, depth: int, colour: int, *, filter_type: int, interlace: bool = False
) -> bytes:
    """A valid PNG of any size whose every scanline carries ``filter_type`` (4: Paeth).

    Un-filtering is per byte of scanline, whatever Pillow stores: a 16-bit RGBA
    pixel is 8 bytes to inflate and un-filter for 4 bytes of image.
    """
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    passes = ADAM7 if interlace else ((0, 0, 1, 1),)
    runs = []
    for column, row, column_step, row_step in passes:
        columns = max(0, -(-(width - column) // column_step))
        rows = max(0, -(-(height - row) // row_step))
        if columns and rows:
            line = bytes([filter_type]) + b"\x07" * ((columns * channels * depth + 7) // 8)
            runs.append((line, rows))
    head = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, int(interlace))
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", head)
        + png_chunk(b"IDAT", repeated_zlib(runs))
        + png_chunk(b"IEND", b"")
    )


def _ztxt_bomb(rng: Rng) -> bytes:
    return png_with_chunks([png_chunk(b"zTXt", b"Comment\x00\x00" + zeros_zlib(_bomb_size(rng)))])


def _itxt_bomb(rng: Rng) -> bytes:
    head = b"XML:com.adobe.xmp\x00\x01\x00\x00\x00"
    return png_with_chunks([png_chunk(b"iTXt", head + zeros_zlib(_bomb_size(rng)))])


def _iccp_bomb(rng: Rng) -> bytes:
    return png_with_chunks([png_chunk(b"iCCP", b"icc\x00\x00" + zeros_zlib(_bomb_size(rng)))])


def _many_text_chunks(rng: Rng) -> bytes:
    """Thousands of 1 MiB zTXt chunks: each under the per-chunk cap, far over any total."""
    one = png_chunk(b"zTXt", b"k\x00\x00" + zeros_zlib((1 << 20) - int(rng.integers(1, 64))))
    return png_with_chunks([one] * int(rng.integers(200, 3000)))


def _iccp_flood(rng: Rng) -> bytes:
    """Hundreds to 20 000 iCCP chunks of 1 KiB, each inflating to 1 MiB of zeros: Pillow
    inflates every one (its 64 MiB cap is for text), 45 s of CPU for 20 000."""
    one = png_chunk(b"iCCP", b"icc\x00\x00" + zeros_zlib((1 << 20) - int(rng.integers(1, 64))))
    return png_with_chunks([one] * int(rng.integers(65, 20_000)))


def _huge_ihdr(rng: Rng) -> bytes:
    width, height = (int(v) for v in rng.integers(1, 2**31, size=2))
    return png_with_chunks([], b"\x89PNG\r\n\x1a\n" + png_ihdr(width, height) + _tail_of_carrier())


def _tail_of_carrier() -> bytes:
    png = saved(carrier(), "PNG")
    return png[8 + 25 :]


def _split_idat(rng: Rng) -> bytes:
    """Hundreds of thousands of one-byte IDAT chunks."""
    png = saved(carrier(int(rng.integers(600, 1200)), 600), "PNG", compress_level=0)
    start = png.index(b"IDAT") - 4
    (length,) = struct.unpack_from(">I", png, start)
    stream = png[start + 8 : start + 8 + length]
    pieces = b"".join(png_chunk(b"IDAT", stream[i : i + 1]) for i in range(len(stream)))
    return png[:start] + pieces + png[start + 12 + length :]


def _apng_frames(rng: Rng) -> bytes:
    """An APNG control chunk announcing 2**31 frames, followed by thousands of tiny ones."""
    actl = png_chunk(b"acTL", struct.pack(">II", 2**31 - 1, 0))
    fctl = [
        png_chunk(b"fcTL", struct.pack(">IIIIIHHBB", n, 320, 240, 0, 0, 1, 1, 0, 0))
        for n in range(int(rng.integers(100, 5000)))
    ]
    return png_with_chunks([actl, *fctl])


def _tiny_chunks(rng: Rng) -> bytes:
    """Up to two million empty private chunks, before or after the image data."""
    png = saved(carrier(), "PNG")
    flood = png_chunk(b"prVt", b"") * int(rng.integers(100_000, 2_000_000))
    if rng.random() < 0.5:
        return png_with_chunks([flood], png)
    return png[:-12] + flood + png[-12:]


def _one_pixel_wide(rng: Rng) -> bytes:
    """A grey image 1 pixel wide (or high) and tens of millions long: Pillow keeps a
    pointer per row, and copies pixels out through a buffer of 4 bytes per column."""
    length = int(rng.integers(20_000_000, 90_000_000))
    return png_image(1, length, 8, 0) if rng.random() < 0.5 else png_image(length, 1, 8, 0)


def _deep_paeth(rng: Rng) -> bytes:
    """A 16-bit RGB(A) PNG of 10 to 40 MP, every row Paeth-filtered, interlaced or not:
    up to 312 MB of scanlines to un-filter for an image that fits the memory budget."""
    colour = int(rng.choice([2, 6]))
    width = int(rng.integers(2000, 12_000))
    height = int(rng.integers(10_000_000, 40_000_000)) // width
    return png_filtered(width, height, 16, colour, filter_type=4, interlace=rng.random() < 0.5)


def _deflate_padding(rng: Rng) -> bytes:
    """50 000 to 2.8 million empty deflate blocks (up to 32 MB) among a 64 x 64 PNG's
    pixels, or in a zTXt, compressed iTXt or iCCP chunk: 2.3 to 2.5 s of zlib at 32 MB."""
    blocks = int(rng.integers(50_000, 2_800_000))
    where = int(rng.integers(0, 4))
    if where == 0:
        rows = b"".join(b"\x00" + bytes(range(64)) for _ in range(64))
        stream = padded_zlib(rows, blocks, at=int(rng.integers(0, len(rows))))
        return (
            b"\x89PNG\r\n\x1a\n"
            + png_ihdr(64, 64, 8, 0)
            + png_chunk(b"IDAT", stream)
            + png_chunk(b"IEND", b"")
        )
    kind, head = [
        (b"zTXt", b"Comment\x00\x00"),
        (b"iTXt", b"XML:com.adobe.xmp\x00\x01\x00\x00\x00"),
        (b"iCCP", b"icc\x00\x00"),
    ][where - 1]
    return png_with_chunks([png_chunk(kind, head + padded_zlib(b"text", blocks))])


#: Ancillary chunks that Pillow's PNG reader failed on as it opened the file ("Truncated
#: pHYs chunk", "cannot identify image file"), each with a valid CRC.
MALFORMED_PNG_METADATA: dict[str, bytes] = {
    "gama-of-2-bytes": png_chunk(b"gAMA", b"\x00\x00"),
    "phys-of-4-bytes": png_chunk(b"pHYs", b"\x00\x00\x00\x01"),
    "empty-srgb": png_chunk(b"sRGB", b""),
    "trns-of-1-byte-in-rgb": png_chunk(b"tRNS", b"\x00"),
    "iccp-without-a-name": png_chunk(b"iCCP", b"x"),
}


def _malformed_png_metadata(rng: Rng) -> bytes:
    """A PNG with up to a thousand of :data:`MALFORMED_PNG_METADATA`'s chunks."""
    kinds = list(MALFORMED_PNG_METADATA.values())
    count = int(rng.integers(1, 1000))
    return png_with_chunks([kinds[int(i)] for i in rng.integers(0, len(kinds), size=count)])


def _png_header_fields(rng: Rng) -> bytes:
    """A small PNG whose IHDR fields (depth, colour type, compression, filter and
    interlace methods) are any byte values, with or without a PLTE and a tRNS chunk of
    any length: a palette PNG without PLTE but with tRNS made Pillow's conversion to
    RGB assert."""
    depth, colour, compression, filtering, interlace = (
        int(v) for v in rng.choice([0, 1, 2, 3, 4, 6, 7, 8, 16, 255], size=5)
    )
    header = struct.pack(">IIBBBBB", 64, 48, depth, colour, compression, filtering, interlace)
    chunks = [png_chunk(b"IHDR", header)]
    for kind in (b"PLTE", b"tRNS"):
        if rng.random() < 0.5:
            chunks.append(png_chunk(kind, bytes(int(rng.choice([0, 1, 2, 3, 6, 256, 768, 771])))))
    rows = rng.integers(0, 256, size=48 * 600, dtype=np.uint8).tobytes()
    chunks += [png_chunk(b"IDAT", zlib.compress(rows)), png_chunk(b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def png_generators() -> dict[str, Generator]:
    return {
        "ztxt-bomb": _ztxt_bomb,
        "deflate-padding": _deflate_padding,
        "itxt-bomb": _itxt_bomb,
        "iccp-bomb": _iccp_bomb,
        "many-text-chunks": _many_text_chunks,
        "iccp-flood": _iccp_flood,
        "huge-ihdr": _huge_ihdr,
        "split-idat": _split_idat,
        "apng-frame-count": _apng_frames,
        "tiny-chunks": _tiny_chunks,
        "one-pixel-wide": _one_pixel_wide,
        "16bit-paeth": _deep_paeth,
        "malformed-metadata": _malformed_png_metadata,
        "header-fields": _png_header_fields,
    }


# --- 16-bit and float images near the pixel limit ------------------------------------

#: The default profile's ``max_pixels``; "near the limit" is just under it.
PIXEL_LIMIT = 100_000_000


def _near_limit(rng: Rng, multiple: int = 1) -> tuple[int, int]:
    width = int(rng.integers(1000, 100_000)) // multiple * multiple
    # A quarter of the limit up to the limit: above and below each format's decode budget.
    height = int(PIXEL_LIMIT * float(rng.uniform(0.25, 1.0))) // width // multiple * multiple
    return width, height


def _png16(rng: Rng) -> bytes:
    width, height = _near_limit(rng)
    return png_image(width, height, 16, int(rng.choice([0, 2, 4, 6])))


def _png8_rgba(rng: Rng) -> bytes:
    width, height = _near_limit(rng)
    return png_image(width, height, 8, int(rng.choice([2, 6])))


def deflate_tiff(
    width: int,
    height: int,
    *,
    bits: int = 8,
    samples: int = 1,
    photometric: int = 1,
    sample_format: int = 1,
    strip: bytes | None = None,
    compression: int = 8,
) -> bytes:
    """A valid all-zero TIFF in one deflate strip, of any sample width, count and colour
    space (photometric 1 grey, 2 RGB, 5 CMYK, 8 CIELab); a fourth sample of grey or RGB
    is alpha. Built in milliseconds at any size (:func:`zeros_zlib`). ``strip`` and
    ``compression`` replace the strip and its compression."""
    if strip is None:
        strip = zeros_zlib(width * height * samples * bits // 8)
    bits_at = 8 + len(strip)
    bits_values = struct.pack(f">{samples}H", *[bits] * samples)
    extra = [
        (0x0102, 3, samples, bits_at if samples > 2 else bits << 16),
        (0x0106, 3, 1, photometric << 16),
        (0x0115, 3, 1, samples << 16),
        (0x0153, 3, 1, sample_format << 16),
    ]
    if samples in (2, 4) and photometric in (1, 2):
        extra.append((0x0152, 3, 1, 2 << 16))  # unassociated alpha
    entries = image_entries(width, height, (8, len(strip)), compression=compression, extra=extra)
    ifd_at = bits_at + (len(bits_values) if samples > 2 else 0)
    return tiff_header(ifd_at) + strip + bits_values[: ifd_at - bits_at] + ifd(entries)


def _tiff_deep(rng: Rng) -> bytes:
    """Deflate-compressed TIFF of 16-bit, 32-bit integer or float samples, 1 or 3 per pixel."""
    width, height = _near_limit(rng)
    bits, fmt, samples = [(16, 1, 1), (16, 1, 3), (32, 3, 1), (32, 1, 1), (32, 3, 3)][
        int(rng.integers(0, 5))
    ]
    photometric = 2 if samples == 3 else 1
    return deflate_tiff(
        width, height, bits=bits, samples=samples, photometric=photometric, sample_format=fmt
    )


def deep_generators() -> dict[str, Generator]:
    return {"png-16bit": _png16, "png-8bit-rgb(a)": _png8_rgba, "tiff-deep-samples": _tiff_deep}


# --- JPEG: progressive scans, marker floods, huge frames ------------------------------


def jpeg_segments(jpeg: bytes) -> list[tuple[int, bytes]]:
    """``(marker, segment bytes)`` up to SOS; the last item is SOS with all data after it."""
    out, at = [], 2
    while at + 4 <= len(jpeg):
        marker = jpeg[at + 1]
        (length,) = struct.unpack_from(">H", jpeg, at + 2)
        if marker == 0xDA:
            out.append((marker, jpeg[at:]))
            break
        out.append((marker, jpeg[at : at + 2 + length]))
        at += 2 + length
    return out


def split_scans(entropy: bytes) -> list[bytes]:
    """Split SOS...EOI into one byte string per scan (each starting with its SOS marker)."""
    scans, start, at = [], 0, 2
    while True:
        at = entropy.find(b"\xff", at)
        if at < 0 or at + 1 >= len(entropy):
            break
        following = entropy[at + 1]
        if following in (0xDA, 0xD9):
            scans.append(entropy[start:at])
            start = at
            if following == 0xD9:
                break
        at += 2
    return scans


@cache
def _progressive(width: int, height: int, mode: str) -> tuple[bytes, list[bytes]]:
    image = Image.new("RGB", (width, height), (120, 130, 140))
    image.paste(carrier(), (0, 0))
    data = saved(image.convert(mode), "JPEG", quality=80, progressive=True)
    segments = jpeg_segments(data)
    head = b"\xff\xd8" + b"".join(body for marker, body in segments[:-1])
    return head, split_scans(segments[-1][1])


def _thousands_of_scans(rng: Rng) -> bytes:
    """A progressive JPEG whose scans are repeated until there are thousands of them."""
    side = int(rng.choice([512, 2048, 4096, 8192]))
    head, scans = _progressive(side, side * 3 // 4, str(rng.choice(["L", "RGB"])))
    count = int(rng.integers(500, 20_000))
    repeated = [scans[int(i)] for i in rng.integers(0, len(scans), size=count)]
    body = b"".join(scans + repeated)[: 30 * 2**20]
    return head + body + b"\xff\xd9"


def _marker_flood(rng: Rng) -> bytes:
    """Hundreds of thousands of small APPn/COM segments before the frame header."""
    marker = int(rng.choice([0xFFE3, 0xFFEC, 0xFFFE, 0xFFE1, 0xFFE2]))
    body = bytes(int(rng.integers(0, 16)))
    return jpeg_with_segments([(marker, body)] * int(rng.integers(10_000, 1_000_000)))


def _huge_frame(rng: Rng) -> bytes:
    """A SOF announcing up to 65535 x 65535 in front of a small image's scan."""
    data = bytearray(saved(carrier(), "JPEG", quality=80))
    sof = next(i for i in range(2, len(data)) if data[i] == 0xFF and data[i + 1] in (0xC0, 0xC2))
    width, height = (int(v) for v in rng.integers(1, 65536, size=2))
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def jpeg_marker(marker: int, body: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body


#: One code of length 1 in DC table 0 (category 0) and in AC table 0 (end of block).
_ONE_CODE_TABLES = jpeg_marker(
    0xC4, b"\x00" + bytes([1] + [0] * 15) + b"\x00" + b"\x10" + bytes([1] + [0] * 15) + b"\x00"
)


def zero_jpeg(
    width: int,
    height: int,
    components: int,
    scans: Sequence[Sequence[int]],
    *,
    sof: int = 0xC0,
    spectral: tuple[int, int] = (0, 63),
    junk: bytes = b"",
) -> bytes:
    """A JPEG of any size in a few bytes per scan: every 8x8 block is two zero bits.

    With one-code Huffman tables a zero bit pair is a flat block, and libjpeg fills a
    missing entropy segment with zero bits, so each scan needs no data at all: the
    decoder does the full work of a ``width`` x ``height`` image. ``scans`` lists the
    component indices of each scan; ``junk`` goes between APP0 and the tables, where
    libjpeg and Pillow skip it.
    """
    frame = struct.pack(">BHHB", 8, height, width, components) + b"".join(
        bytes([i + 1, 0x11, 0]) for i in range(components)
    )
    body = b"".join(
        jpeg_marker(
            0xDA, bytes([len(scan), *(b for c in scan for b in (c + 1, 0))]) + bytes([*spectral, 0])
        )
        + b"\x00"
        for scan in scans
    )
    return (
        b"\xff\xd8"
        + jpeg_marker(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + junk
        + jpeg_marker(0xDB, b"\x00" + bytes([1]) * 64)
        + jpeg_marker(sof, frame)
        + _ONE_CODE_TABLES
        + body
        + b"\xff\xd9"
    )


def _multi_scan(rng: Rng) -> bytes:
    """A sequential JPEG with one scan per component: libjpeg buffers every coefficient.

    Near the pixel limit that is 590 MB (4:4:4); repeated scans are each decoded.
    """
    side = int(rng.integers(1000, 10_001))
    return zero_jpeg(side, side, 3, [[0], [1], [2]] * int(rng.integers(1, 2000)))


def _junk_before_frame(rng: Rng) -> bytes:
    """A progressive JPEG behind a few junk bytes, which libjpeg and Pillow skip."""
    side = int(rng.integers(2000, 10_001))
    junk = rng.integers(0, 255, int(rng.integers(1, 64)), dtype=np.uint8).tobytes()
    ac = [[0], [1], [2]] * int(rng.integers(1, 3000))
    head = zero_jpeg(side, side, 3, [[0, 1, 2]], sof=0xC2, spectral=(0, 0), junk=junk)[:-2]
    tail = zero_jpeg(side, side, 3, ac, sof=0xC2, spectral=(1, 63))
    return head + tail[tail.index(b"\xff\xda") :]


def _fill_flood(rng: Rng) -> bytes:
    """Up to 30 MB of 0xFF fill, junk, stuffed zeros or restart markers before the frame."""
    jpeg = saved(carrier(), "JPEG", quality=85)
    (app0,) = struct.unpack_from(">H", jpeg, 4)
    unit = [b"\xff", b"\x00", b"\xff\x00", b"\xff\xd0"][int(rng.integers(0, 4))]
    flood = unit * (int(rng.integers(100_000, 30_000_000)) // len(unit))
    return jpeg[: 4 + app0] + flood + jpeg[4 + app0 :]


def photoshop_blocks(count: int) -> list[bytes]:
    """APP13 bodies holding ``count`` empty Photoshop resource blocks (12 bytes each)."""
    block = b"8BIM\x04\x04" + bytes(6)
    per_segment = (65_533 - 14) // len(block)
    return [
        b"Photoshop 3.0\x00" + block * min(per_segment, count - done)
        for done in range(0, count, per_segment)
    ]


def _photoshop_flood(rng: Rng) -> bytes:
    """Millions of Photoshop resource blocks in APP13 segments: Pillow parses each in Python."""
    bodies = photoshop_blocks(int(rng.integers(20_000, 2_600_000)))
    return jpeg_with_segments([(0xFFED, body) for body in bodies])


def mp_index(declared: int, entries: int, *, data_offset: int = 64) -> bytes:
    """An APP2 Multi-Picture index (CIPA DC-007), as cameras write for a preview: it
    declares ``declared`` pictures and holds ``entries`` 16-byte entries, the primary
    picture's first, then large thumbnails said to start ``data_offset`` bytes in."""
    entry_bytes = b"".join(
        struct.pack(
            ">IIIHH", 0x20030000 if i == 0 else 0x00010001, 1000, data_offset * (i > 0), 0, 0
        )
        for i in range(entries)
    )
    directory = [
        struct.pack(">HHI4s", 0xB000, 7, 4, b"0100"),  # MPFVersion
        struct.pack(">HHII", 0xB001, 4, 1, declared),  # NumberOfImages
        struct.pack(">HHII", 0xB002, 7, len(entry_bytes), 8 + 2 + 3 * 12 + 4),  # MPEntry
    ]
    return (
        b"MPF\x00"
        + tiff_header()
        + struct.pack(">H", len(directory))
        + b"".join(directory)
        + struct.pack(">I", 0)
        + entry_bytes
    )


def _mp_index_lies(rng: Rng) -> bytes:
    """A JPEG whose Multi-Picture index lies: up to 2^32 - 1 pictures declared, thousands
    listed, offsets past the file, in one to three APP2 segments. Pillow reads the index
    when it opens a JPEG, to make an MPO of it."""
    entries = int(rng.integers(0, 4093))
    declared = int(rng.choice([entries, entries + 1, 0xFFFF_FFFF, int(rng.integers(0, 2**32))]))
    offset = int(rng.choice([64, 2**31, 0xFFFF_FFF0]))
    segment = (0xFFE2, mp_index(declared, entries, data_offset=offset))
    return jpeg_with_segments([segment] * int(rng.integers(1, 4)))


#: Metadata segments that libjpeg does not read and Pillow's JPEG reader failed on as
#: it opened the file ("index out of range", "unpack_from requires a buffer ...").
MALFORMED_METADATA: dict[str, tuple[int, bytes]] = {
    "icc-chunk-without-its-number": (0xFFE2, b"ICC_PROFILE\x00"),
    "photoshop-resource-cut-after-its-code": (0xFFED, b"Photoshop 3.0\x008BIM\x04\x04"),
    "jfif-5-bytes": (0xFFE0, b"JFIF\x00"),
    "adobe-5-bytes": (0xFFEE, b"Adobe"),
}


def _malformed_metadata(rng: Rng) -> bytes:
    """A JPEG with up to a thousand of :data:`MALFORMED_METADATA`'s segments, cut at
    random lengths, between valid ICC chunks and Photoshop resources."""
    kinds = list(MALFORMED_METADATA.values())
    segments = []
    for _ in range(int(rng.integers(1, 1000))):
        marker, body = kinds[int(rng.integers(0, len(kinds)))]
        segments.append((marker, body[: int(rng.integers(len(body) // 2, len(body) + 1))]))
    segments.append((0xFFE2, b"ICC_PROFILE\x00\x01\x01" + bytes(int(rng.integers(0, 60_000)))))
    segments.append((0xFFED, photoshop_blocks(1)[0]))
    order = rng.permutation(len(segments))
    return jpeg_with_segments([segments[int(i)] for i in order])


def _lossless(rng: Rng) -> bytes:
    """A lossless (SOF3) JPEG: DCT scaling does not apply to it."""
    side = int(rng.integers(2500, 10_001))
    return zero_jpeg(side, side, int(rng.choice([1, 3])), [[0]], sof=0xC3, spectral=(1, 0))


def progressive_zero_jpeg(side: int, ac_rounds: int, *, arithmetic: bool = False) -> bytes:
    """A progressive 4:4:4 JPEG of ``side`` x ``side``: a DC scan, then ``ac_rounds`` AC
    scans per component. Decoded at full size, its coefficients (128 bytes a block) are
    held while the image is written."""
    sof = 0xCA if arithmetic else 0xC2
    head = zero_jpeg(side, side, 3, [[0, 1, 2]], sof=sof, spectral=(0, 0))[:-2]
    tail = zero_jpeg(side, side, 3, [[0], [1], [2]] * ac_rounds, sof=sof, spectral=(1, 63))
    return head + tail[tail.index(b"\xff\xda") :]


def _progressive_full_size(rng: Rng) -> bytes:
    """Progressive 4:4:4, 16 to 42 MP, Huffman or arithmetic: inside the coefficient budget,
    but a profile that decodes at full size holds coefficients and image together."""
    side = int(rng.integers(4000, 6500))
    return progressive_zero_jpeg(side, int(rng.integers(1, 4)), arithmetic=rng.random() < 0.5)


def jpeg_generators() -> dict[str, Generator]:
    return {
        "thousands-of-scans": _thousands_of_scans,
        "marker-flood": _marker_flood,
        "huge-frame": _huge_frame,
        "multi-scan": _multi_scan,
        "junk-before-frame": _junk_before_frame,
        "fill-flood": _fill_flood,
        "lossless": _lossless,
        "photoshop-flood": _photoshop_flood,
        "progressive-full-size": _progressive_full_size,
        "mp-index-lies": _mp_index_lies,
        "malformed-metadata": _malformed_metadata,
    }


# --- ICC profiles -------------------------------------------------------------------------


def _icc_profile(rng: Rng, length: int) -> bytes:
    """An ICC header whose size and tag count are lies, padded to ``length``."""
    header = struct.pack(">I", 0xFFFFFFFF) + b"lcms" + bytes(120) + struct.pack(">I", 0xFFFFFFFF)
    tags = struct.pack(">4sII", b"desc", 0xFFFFFFF0, 0xFFFFFFF0) * 8
    body = header + tags
    return (body * (length // len(body) + 1))[:length]


def _jpeg_icc_chunks(rng: Rng) -> bytes:
    """Up to 255 APP2 ICC chunks of 64 KiB, with duplicate and out-of-range sequence numbers."""
    count = int(rng.integers(2, 256))
    chunk = _icc_profile(rng, 65_519)
    segments = [
        (0xFFE2, b"ICC_PROFILE\x00" + bytes([int(rng.integers(0, 256)), count]) + chunk)
        for _ in range(count)
    ]
    return jpeg_with_segments(segments)


def _webp_iccp(rng: Rng) -> bytes:
    return saved(carrier(), "WEBP", quality=80, icc_profile=_icc_profile(rng, 1 << 24))


def _tiff_icc(rng: Rng) -> bytes:
    count = int(rng.choice([0x7FFFFFFF, 1 << 24, 4096]))
    return tiff_image(320, 240, extra=[(0x8773, 7, count, 8)], prefix=_icc_profile(rng, 8192))


def _png_icc_bomb(rng: Rng) -> bytes:
    return _iccp_bomb(rng)


def icc_generators() -> dict[str, Generator]:
    return {
        "jpeg-app2-chunks": _jpeg_icc_chunks,
        "webp-iccp-16mib": _webp_iccp,
        "tiff-icc-count": _tiff_icc,
        "png-iccp-bomb": _png_icc_bomb,
    }


# --- XMP ----------------------------------------------------------------------------------

_XMP_NS = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_EXT = b"http://ns.adobe.com/xmp/extension/\x00"


def _laughs(rng: Rng) -> bytes:
    """A billion-laughs XMP packet that also declares an orientation, for parsers that look."""
    levels = int(rng.integers(5, 12))
    entities = b'<!ENTITY l0 "lol">' + b"".join(
        b'<!ENTITY l%d "%s">' % (n, (b"&l%d;" % (n - 1)) * 10) for n in range(1, levels)
    )
    return (
        b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><!DOCTYPE x [' + entities + b"]>"
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description tiff:Orientation="6">'
        + b"&l%d;" % (levels - 1)
        + b"</rdf:Description></rdf:RDF></x:xmpmeta>" * int(rng.integers(1, 2000))
    )


def _jpeg_xmp(rng: Rng) -> bytes:
    extended = [
        (0xFFE1, _XMP_EXT + b"0" * 32 + struct.pack(">II", 0xFFFFFFFF, int(off)) + bytes(60_000))
        for off in rng.integers(0, 2**32, size=int(rng.integers(1, 200)))
    ]
    return jpeg_with_segments([(0xFFE1, _XMP_NS + _laughs(rng)[:65_000]), *extended])


def _png_xmp(rng: Rng) -> bytes:
    return png_with_chunks(
        [png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + _laughs(rng))]
    )


def _webp_xmp(rng: Rng) -> bytes:
    return saved(carrier(), "WEBP", quality=80, xmp=_laughs(rng))


def _tiff_xmp(rng: Rng) -> bytes:
    packet = _laughs(rng)
    count = int(rng.choice([len(packet), 0xFFFFFFFF]))
    return tiff_image(320, 240, extra=[(0x02BC, 1, count, 8)], prefix=bytes(8) + packet)


def xmp_generators() -> dict[str, Generator]:
    return {"jpeg": _jpeg_xmp, "png-itxt": _png_xmp, "webp": _webp_xmp, "tiff-700": _tiff_xmp}


# --- WebP ---------------------------------------------------------------------------------


def riff(chunks: Sequence[bytes], size: int | None = None) -> bytes:
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body) if size is None else size) + body


def webp_chunk(kind: bytes, body: bytes, size: int | None = None) -> bytes:
    declared = len(body) if size is None else size
    return kind + struct.pack("<I", declared) + body + (b"\x00" if len(body) % 2 else b"")


def _vp8x(width: int, height: int, flags: int) -> bytes:
    body = (
        bytes([flags, 0, 0, 0])
        + (width - 1).to_bytes(3, "little")
        + (height - 1).to_bytes(3, "little")
    )
    return webp_chunk(b"VP8X", body)


@cache
def _vp8_frame() -> bytes:
    data = saved(carrier(64, 48), "WEBP", quality=50)
    return data[12:]  # the VP8 chunk


def _webp_canvas(rng: Rng) -> bytes:
    """An animation whose canvas is up to 16384 x 16384, holding one 64 x 48 frame."""
    width, height = (int(v) for v in rng.integers(8000, 16385, size=2))
    frame = _vp8_frame()
    anmf = webp_chunk(
        b"ANMF",
        bytes(6) + (63).to_bytes(3, "little") + (47).to_bytes(3, "little") + bytes(4) + frame,
    )
    return riff([_vp8x(width, height, 0x02), webp_chunk(b"ANIM", bytes(6)), anmf])


def _webp_frames(rng: Rng) -> bytes:
    """Tens of thousands of animation frames."""
    frame = _vp8_frame()
    anmf = webp_chunk(
        b"ANMF",
        bytes(6) + (63).to_bytes(3, "little") + (47).to_bytes(3, "little") + bytes(4) + frame,
    )
    count = min(int(rng.integers(1000, 100_000)), 30 * 2**20 // len(anmf))
    return riff([_vp8x(64, 48, 0x02), webp_chunk(b"ANIM", bytes(6)), anmf * count])


def _webp_size_lies(rng: Rng) -> bytes:
    """Chunk sizes (RIFF, VP8X, metadata, image) that claim far more than the file holds."""
    frame = _vp8_frame()
    lie = int(rng.integers(2**20, 2**32 - 16))
    chunks = [
        _vp8x(64, 48, 0x2C),
        webp_chunk(b"ICCP", bytes(64), lie if rng.random() < 0.5 else None),
        frame,
        webp_chunk(
            b"EXIF",
            tiff_header() + ifd([(0x010F, 3, 0x3FFFFFFF, 26)]),
            lie if rng.random() < 0.5 else None,
        ),
        webp_chunk(b"XMP ", b"<x/>", lie if rng.random() < 0.5 else None),
    ]
    return riff(chunks, lie if rng.random() < 0.5 else None)


def _vp8l_huge(rng: Rng) -> bytes:
    """A lossless bitstream header announcing up to 16384 x 16384, with a few bytes of data."""
    width, height = (int(v) for v in rng.integers(8000, 16385, size=2))
    bits = (width - 1) | ((height - 1) << 14)
    header = b"\x2f" + struct.pack("<I", bits) + rng.integers(0, 256, 64, dtype=np.uint8).tobytes()
    return riff([webp_chunk(b"VP8L", header)])


def _bits(value: int, count: int) -> np.ndarray:
    """``value``'s ``count`` low bits, least significant first (VP8L's packing)."""
    return (value >> np.arange(count)) & 1


def _code_bits(symbols: np.ndarray) -> np.ndarray:
    """The 8-bit codes of ``symbols`` (code = symbol), as VP8L reads them: top bit first."""
    return ((symbols[:, None] >> np.arange(7, -1, -1)) & 1).astype(np.int64)


def _eight_bit_code(alphabet: int) -> np.ndarray:
    """A normal code giving the first 256 symbols 8 bits: two code-length codes of 1 bit
    (0 and 8), sent in VP8L's order, then one bit per symbol."""
    order = (17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8)
    head = [_bits(0, 1), _bits(len(order) - 4, 4)]
    head += [_bits(1 if slot in (0, 8) else 0, 3) for slot in order]
    return np.concatenate([*head, _bits(0, 1), (np.arange(alphabet) < 256).astype(np.int64)])


#: A simple code of one symbol (0): it takes no bits in the data.
_ONE_SYMBOL = np.array([1, 0, 0, 0])


def vp8l_stream(width: int, height: int, groups: int, block_bits: int) -> bytes:
    """A lossless image stream (after the VP8L header) whose meta-Huffman image selects
    ``groups`` groups of one-symbol codes: libwebp builds every group's tables, and every
    pixel then takes no bits at all."""
    columns, rows = -(-width // (1 << block_bits)), -(-height // (1 << block_bits))
    selected = np.arange(columns * rows) % groups
    pixels = np.concatenate([_code_bits(selected & 255), _code_bits(selected >> 8)], axis=1)
    parts = [
        np.array([0, 0, 1]),  # no transform, no colour cache, meta-Huffman codes
        _bits(block_bits - 2, 3),
        np.array([0]),  # the meta image: no colour cache
        _eight_bit_code(280),  # green
        _eight_bit_code(256),  # red
        np.tile(_ONE_SYMBOL, 3),  # blue, alpha, distance
        pixels.ravel(),
        np.tile(_ONE_SYMBOL, 5 * min(groups, columns * rows)),
    ]
    packed = np.packbits(np.concatenate(parts).astype(np.uint8), bitorder="little")
    return packed.tobytes() + bytes(8)


def _huffman_groups(rng: Rng) -> bytes:
    """Thousands of Huffman groups in a lossless WebP, its animation's first frame, or a
    lossy one's lossless alpha: libwebp builds all their tables first (65 536 in a 1 MP
    file of 295 kB: 361 MB)."""
    groups = int(rng.integers(2000, 65_537))
    blocks = int(np.ceil(np.sqrt(groups)))  # the meta image is blocks x blocks
    block_bits = int(rng.integers(2, max(3, int(np.log2(2048 / blocks)) + 1)))
    side = blocks << block_bits  # up to 2048: inside the WebP decode budget
    stream = vp8l_stream(side, side, groups, block_bits)
    header = struct.pack("<I", (side - 1) | (side - 1) << 14)
    lossless = webp_chunk(b"VP8L", b"\x2f" + header + stream)
    container = int(rng.integers(0, 3))
    if container == 0:
        return riff([lossless])
    if container == 1:  # the first frame of an animation
        frame = (0).to_bytes(6, "little") + (side - 1).to_bytes(3, "little") * 2 + bytes(4)
        animation = webp_chunk(b"ANIM", bytes(6))
        return riff([_vp8x(side, side, 0x12), animation, webp_chunk(b"ANMF", frame + lossless)])
    alpha = webp_chunk(b"ALPH", b"\x01" + stream)
    return riff([_vp8x(side, side, 0x10), alpha, _flat_vp8(side)])


@cache
def _flat_vp8(side: int) -> bytes:
    """The VP8 chunk of a flat grey lossy image (fast to encode at any size)."""
    return saved(Image.new("RGB", (side, side), (128, 128, 128)), "WEBP", quality=0, method=0)[12:]


def _webp_chunk_flood(rng: Rng) -> bytes:
    """Up to four million empty unknown chunks before a lossless image: libwebp walks them
    in C, a reader in Python would take seconds."""
    image = saved(carrier(), "WEBP", lossless=True)[12:]
    flood = webp_chunk(b"XYZW", b"") * int(rng.integers(500, 4_000_000))
    return riff([_vp8x(320, 240, 0), flood, image])


def _webp_lossless_near_limit(rng: Rng) -> bytes:
    """A flat lossless WebP (RGB or RGBA, alone or an animation's first frame) of 10 to
    17 MP: libwebp's lossless decoder holds an ARGB copy of the frame besides the two
    canvases, 288 MB at 16.7 MP. A few dozen bytes, encoded in under half a second."""
    mode = str(rng.choice(["RGB", "RGBA"]))
    width = int(rng.integers(3000, 6000))
    height = int(rng.integers(10_000_000, 17_000_000)) // width
    image = Image.new(mode, (width, height), (90, 120, 150, 200)[: len(mode)])
    if rng.random() < 0.5:
        return saved(image, "WEBP", lossless=True, method=0, quality=0)
    blank = Image.new(mode, image.size)
    return saved(
        image, "WEBP", lossless=True, method=0, quality=0, save_all=True, append_images=[blank]
    )


def animated_webp_cut(within: int) -> bytes:
    """A lossless animated WebP cut ``within`` bytes into its first frame's chunks, so the
    frame (``ANMF``) announces more than the file holds."""
    frame = carrier(160, 120)
    data = saved(frame, "WEBP", save_all=True, append_images=[frame.rotate(90)], lossless=True)
    return data[: data.index(b"ANMF") + 8 + 16 + within]


def _webp_cut_animation(rng: Rng) -> bytes:
    """An animated WebP cut inside its first frame: a reader that trusts the frame's size
    reads past the file (a ``struct.error`` out of ``core.score`` before this audit)."""
    return animated_webp_cut(int(rng.integers(0, 40)))


def webp_generators() -> dict[str, Generator]:
    return {
        "lossless-near-limit": _webp_lossless_near_limit,
        "cut-animation": _webp_cut_animation,
        "canvas-16384": _webp_canvas,
        "100k-frames": _webp_frames,
        "chunk-size-lies": _webp_size_lies,
        "vp8l-huge-header": _vp8l_huge,
        "huffman-groups": _huffman_groups,
        "chunk-flood": _webp_chunk_flood,
    }


# --- TIFF: pages, tiles, strips, counts -------------------------------------------------


def _multi_page(rng: Rng) -> bytes:
    """Thousands of pages chained by next-IFD offsets, the last pointing back to the first."""
    pages = int(rng.integers(1000, 50_000))
    first = tiff_image(64, 48)
    (ifd_at,) = struct.unpack_from(">I", first, 4)
    directory = first[ifd_at:]
    size = len(directory)
    chain = b"".join(
        directory[:-4] + struct.pack(">I", ifd_at + (n + 1) * size if n + 1 < pages else ifd_at)
        for n in range(pages)
    )
    return first[:ifd_at] + chain


def _tiny_tiles(rng: Rng) -> bytes:
    """A tiled image near the pixel limit made of 16 x 16 tiles that all share one tile's data."""
    width, height = _near_limit(rng, 16)
    tiles = (width // 16) * (height // 16)
    tile_at = 8
    offsets_at = tile_at + 256
    counts_at = offsets_at + 4 * tiles
    ifd_at = counts_at + 4 * tiles
    tiling = [
        (0x0142, 4, 1, 16),
        (0x0143, 4, 1, 16),
        (0x0144, 4, tiles, offsets_at),
        (0x0145, 4, tiles, counts_at),
    ]
    entries = image_entries(width, height, None, extra=tiling)
    return (
        tiff_header(ifd_at)
        + bytes(range(256))
        + struct.pack(">I", tile_at) * tiles
        + struct.pack(">I", 256) * tiles
        + ifd(entries)
    )


def _strip_per_row(rng: Rng) -> bytes:
    """One strip per row, every strip sharing one row's bytes."""
    width, height = _near_limit(rng)
    height = min(height, 3_000_000)
    row_at, offsets_at = 8, 8 + width
    counts_at = offsets_at + 4 * height
    strips = [(0x0111, 4, height, offsets_at), (0x0116, 4, 1, 1), (0x0117, 4, height, counts_at)]
    entries = image_entries(width, height, None, extra=strips)
    return (
        tiff_header(counts_at + 4 * height)
        + bytes(width)
        + struct.pack(">I", row_at) * height
        + struct.pack(">I", width) * height
        + ifd(entries)
    )


def _tiff_huge_counts(rng: Rng) -> bytes:
    """The image's own tags (bits, strips, samples) with counts up to 2**32 - 1."""
    tag = int(rng.choice([0x0102, 0x0111, 0x0117, 0x0115, 0x0140, 0x0152, 0x014A]))
    count = int(rng.integers(2**16, 2**32))
    return tiff_image(320, 240, extra=[(tag, int(rng.choice([3, 4, 13])), count, 8)])


def _tiff_bomb_strip(rng: Rng) -> bytes:
    """A deflate strip that inflates to a near-limit 8-bit grey image."""
    width, height = _near_limit(rng)
    strip = zeros_zlib(width * height)
    entries = image_entries(width, height, (8, len(strip)), compression=8)
    return tiff_header(8 + len(strip)) + strip + ifd(entries)


def _shared_tag_values(rng: Rng) -> bytes:
    """Thousands of distinct tags in IFD0 whose values all point at one region of the file.

    Pillow reads and keeps every value of the first directory when it opens a TIFF.
    """
    length = int(rng.choice([1 << 18, 1 << 20, 1 << 24]))
    tags = int(rng.integers(100, 4000))
    extra = [(0x8000 + i, 7, length, 8) for i in range(tags)]
    return tiff_image(64, 48, extra=extra, prefix=bytes(8 + length))


def tiff_lab(width: int, height: int) -> bytes:
    """An 8-bit CIELab TIFF (photometric 8): Pillow converts Lab to RGB fifteen times
    slower than any other mode."""
    return deflate_tiff(width, height, samples=3, photometric=8)


def _tiff_lab(rng: Rng) -> bytes:
    width = int(rng.integers(1000, 8000))
    return tiff_lab(width, int(rng.integers(4_000_000, 24_000_000)) // width)


def _tiff_deflate_padding(rng: Rng) -> bytes:
    """A grey deflate TIFF whose one strip holds 50 000 to 2.7 million empty deflate
    blocks among its pixels (libtiff reads a strip of up to ten times its size)."""
    side = int(rng.integers(1200, 3000))
    pixels = bytes(side * side)
    blocks = int(rng.integers(50_000, 2_700_000))
    strip = padded_zlib(pixels, blocks, at=int(rng.integers(0, len(pixels))))
    return deflate_tiff(side, side, strip=strip)


def tiff_lzma(width: int, height: int, samples: bytes | None = None) -> bytes:
    """A grey TIFF in one LZMA (xz) strip: all zeros unless ``samples`` are given."""
    pixels = bytes(width * height) if samples is None else samples
    strip = lzma.compress(pixels, format=lzma.FORMAT_XZ, preset=0)
    return deflate_tiff(width, height, strip=strip, compression=34925)


def _tiff_lzma(rng: Rng) -> bytes:
    """An LZMA-compressed grey TIFF of 8 to 72 MB of samples (liblzma decodes about
    25 ns a byte); over the limit, the strip is empty: the header is refused first."""
    width = int(rng.integers(2000, 8000))
    height = int(rng.integers(8_000_000, 72_000_000)) // width
    if width * height > MAX_LZMA_BYTES:
        return deflate_tiff(
            width, height, strip=lzma.compress(b"", lzma.FORMAT_XZ), compression=34925
        )
    return tiff_lzma(width, height)


#: Tags Pillow reads from a TIFF's first directory as it opens or loads it (size and
#: layout, resolution, orientation, colour, XMP, ICC, IPTC, Photoshop, sub-directory
#: pointers), each of which a hostile file may give any type, count and value.
PILLOW_TIFF_TAGS = (
    254, 262, 266, 274, 277, 282, 283, 284, 290, 291, 296, 297, 301, 305, 306, 317, 318,
    319, 320, 338, 339, 340, 341, 530, 531, 532, 700, 33723, 34377, 34665, 34675, 34853,
    40965,
)  # fmt: skip
#: TIFF field types 1-13 and BigTIFF's 16-18.
_TIFF_TYPES = (*range(1, 14), 16, 17, 18)


def _tiff_tag_types(rng: Rng) -> bytes:
    """A grey TIFF with one to eight of :data:`PILLOW_TIFF_TAGS` of random type, count
    and value: an XMP tag typed SHORT and an Interoperability pointer without an Exif
    one made Pillow's load raise after it had decoded the pixels."""
    extra = {
        int(tag): (
            int(tag),
            int(rng.choice(_TIFF_TYPES)),
            int(rng.choice([0, 1, 2, 3, 4, 1000, 0xFFFF_FFFF])),
            int(rng.integers(0, 2**32)) if rng.random() < 0.5 else 0,
        )
        for tag in rng.choice(PILLOW_TIFF_TAGS, size=int(rng.integers(1, 9)))
    }
    return tiff_image(320, 240, extra=list(extra.values()))


def tiff_generators() -> dict[str, Generator]:
    return {
        "multi-page-loop": _multi_page,
        "tiny-tiles": _tiny_tiles,
        "strip-per-row": _strip_per_row,
        "huge-counts": _tiff_huge_counts,
        "deflate-strip-bomb": _tiff_bomb_strip,
        "shared-tag-values": _shared_tag_values,
        "cielab": _tiff_lab,
        "deflate-padding": _tiff_deflate_padding,
        "lzma": _tiff_lzma,
        "tag-types": _tiff_tag_types,
    }


# --- HEIF box trees ---------------------------------------------------------------------

#: Boxes whose bodies are boxes, and how many bytes precede the children.
_CONTAINERS = {b"meta": 4, b"iprp": 0, b"ipco": 0, b"dinf": 0, b"iref": 4, b"iinf": 6}


@cache
def _heif_carrier() -> bytes:
    import pillow_heif

    buffer = io.BytesIO()
    pillow_heif.from_pillow(carrier(64, 48)).save(buffer, format="HEIF", quality=50)
    return buffer.getvalue()


def heif_boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[int, int, bytes]]:
    """``(offset, size, type)`` of every box, containers' children included."""
    end = len(data) if end is None else end
    boxes, at = [], start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        if size < 8 or at + size > end:
            break
        boxes.append((at, size, kind))
        if kind in _CONTAINERS:
            boxes.extend(heif_boxes(data, at + 8 + _CONTAINERS[kind], at + size))
        at += size
    return boxes


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _grow_box(data: bytes, offset: int, size: int, extra: bytes) -> bytes:
    """Append ``extra`` to the body of the box at ``offset`` and fix every enclosing size."""
    out = bytearray(data[: offset + size] + extra + data[offset + size :])
    for at, box_size, _ in heif_boxes(data):
        if at <= offset and offset + size <= at + box_size:
            struct.pack_into(">I", out, at, box_size + len(extra))
    return bytes(out)


def _find(data: bytes, kind: bytes) -> tuple[int, int]:
    return next((at, size) for at, size, k in heif_boxes(data) if k == kind)


def _heif_ispe(rng: Rng) -> bytes:
    data = bytearray(_heif_carrier())
    at, _ = _find(bytes(data), b"ispe")
    struct.pack_into(">II", data, at + 12, *(int(v) for v in rng.integers(1, 2**32, size=2)))
    return bytes(data)


def _heif_size_lie(rng: Rng) -> bytes:
    data = bytearray(_heif_carrier())
    boxes = heif_boxes(bytes(data))
    at, _, _ = boxes[int(rng.integers(0, len(boxes)))]
    struct.pack_into(">I", data, at, int(rng.choice([1, 2**31, 2**32 - 1, len(data) + 8])))
    return bytes(data)


def _heif_deep_nesting(rng: Rng) -> bytes:
    """Tens of thousands of nested containers inside ``meta``."""
    depth = int(rng.integers(1000, 100_000))
    kind = [b"dinf", b"iprp", b"ipco"][int(rng.integers(0, 3))]
    nested = b"".join(struct.pack(">I4s", 8 * (depth - level), kind) for level in range(depth))
    data = _heif_carrier()
    at, size = _find(data, b"meta")
    return _grow_box(data, at, size, nested)


def _heif_many_properties(rng: Rng) -> bytes:
    """Thousands of properties in ``ipco`` and an association table claiming more."""
    data = _heif_carrier()
    at, size = _find(data, b"ipco")
    props = _box(b"colr", b"nclx" + bytes(7)) * int(rng.integers(1000, 60_000))
    data = _grow_box(data, at, size, props)
    at, size = _find(data, b"ipma")
    out = bytearray(data)
    struct.pack_into(">I", out, at + 12, int(rng.integers(2**16, 2**32)))
    return bytes(out)


def _heif_item_counts(rng: Rng) -> bytes:
    """``iinf``, ``iloc`` and ``iref`` counts far beyond the entries present."""
    out = bytearray(_heif_carrier())
    iinf, _ = _find(bytes(out), b"iinf")
    struct.pack_into(">H", out, iinf + 12, 65535)
    iloc, _ = _find(bytes(out), b"iloc")
    struct.pack_into(">H", out, iloc + 14, int(rng.integers(2, 65536)))
    return bytes(out)


def _heif_extent(rng: Rng) -> bytes:
    """An ``iloc`` extent whose offset and length point far outside the file."""
    out = bytearray(_heif_carrier())
    iloc, size = _find(bytes(out), b"iloc")
    tail = iloc + size - 8
    struct.pack_into(">II", out, tail, *(int(v) for v in rng.integers(2**20, 2**32, size=2)))
    return bytes(out)


def _full_box(kind: bytes, version: int, flags: int, body: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags) + body)


@cache
def _heif_tile(side: int, mode: str = "RGB") -> tuple[bytes, bytes]:
    """The ``hvcC`` box and the coded data of a ``side`` x ``side`` HEVC image.

    ``mode`` ``RGB;16`` or ``L;16`` codes 10-bit samples (colour, or monochrome).
    """
    import pillow_heif

    buffer = io.BytesIO()
    if mode == "RGB":
        heif = pillow_heif.from_pillow(carrier(side, side))
    else:
        samples = np.frombuffer(_pixels(side, side), np.uint8).astype(">u2") << 8
        pixels = samples if mode == "RGB;16" else samples[::3]
        heif = pillow_heif.from_bytes(mode, (side, side), pixels.astype("<u2").tobytes())
    heif.save(buffer, format="HEIF", quality=30)
    data = buffer.getvalue()
    boxes = {kind: (at, size) for at, size, kind in heif_boxes(data)}
    at, size = boxes[b"hvcC"]
    mdat, mdat_size = boxes[b"mdat"]
    return data[at : at + size], data[mdat + 8 : mdat + mdat_size]


def heif_grid(
    rows: int,
    columns: int,
    side: int,
    mode: str = "RGB",
    ispe: tuple[int, int] | None = None,
    *,
    identity: bool = False,
    rotation: int = 0,
) -> bytes:
    """A valid HEIF grid image of ``rows`` x ``columns`` tiles that all share one tile's data.

    A few kB decode to up to 1000 tiles (libheif's item limit) of ``side`` pixels;
    ``mode`` as :func:`_heif_tile`. ``ispe`` replaces the size the grid item's property
    announces (libheif reports it; the descriptor's own size is what it composes),
    ``identity`` shows the grid through an ``iden`` primary item, and ``rotation`` turns
    it by that many quarter turns (an ``irot`` property, as phones store portrait photos).
    """
    width, height = columns * side, rows * side
    # Grid descriptor with 32-bit output sizes (flags = 1).
    descriptor = struct.pack(">BBBBII", 0, 1, rows - 1, columns - 1, width, height)
    announced = ispe or (width, height)
    return _derived_heif(
        b"grid",
        descriptor,
        rows * columns,
        side,
        mode,
        announced,
        identity=identity,
        rotation=rotation,
    )


def heif_overlay(width: int, height: int, tiles: int, side: int, ispe: tuple[int, int]) -> bytes:
    """A valid HEIF overlay (``iovl``) of ``tiles`` tiles, all at the origin of a ``width`` x
    ``height`` canvas, whose item property announces ``ispe``."""
    descriptor = struct.pack(">BB4HII", 0, 1, 0, 0, 0, 0xFFFF, width, height)
    descriptor += struct.pack(">ii", 0, 0) * tiles
    return _derived_heif(b"iovl", descriptor, tiles, side, "RGB", ispe)


def _derived_heif(
    kind: bytes,
    descriptor: bytes,
    tiles: int,
    side: int,
    mode: str,
    ispe: tuple[int, int],
    *,
    identity: bool = False,
    rotation: int = 0,
) -> bytes:
    """A HEIF whose primary item is a ``kind`` (grid, iovl) item described by ``descriptor``
    (in ``idat``), made of ``tiles`` items sharing one coded tile; with ``identity``, the
    primary is an ``iden`` item showing it (as a rotation or crop would); ``rotation``
    quarter turns are an essential ``irot`` property of the derived item."""
    hvcc, coded = _heif_tile(side, mode)
    derived = 2 if identity else 1
    ids = range(derived + 1, derived + 1 + tiles)
    count = derived + tiles

    def meta(data_at: int) -> bytes:
        infe = _full_box(b"infe", 2, 0, struct.pack(">HH", derived, 0) + kind + b"\x00")
        infe += b"".join(
            _full_box(b"infe", 2, 1, struct.pack(">HH", i, 0) + b"hvc1\x00") for i in ids
        )
        dimg = _box(b"dimg", struct.pack(">HH", derived, tiles) + struct.pack(f">{tiles}H", *ids))
        items = struct.pack(">HHHHII", derived, 1, 0, 1, 0, len(descriptor)) + b"".join(
            struct.pack(">HHHHII", i, 0, 0, 1, data_at, len(coded)) for i in ids
        )
        turned = struct.pack(">BBB", 2, 3, 0x84) if rotation % 4 else struct.pack(">BB", 1, 3)
        ipma = (
            struct.pack(">IH", count, derived)
            + turned
            + b"".join(struct.pack(">HBBB", i, 2, 0x81, 2) for i in ids)
        )
        if identity:  # item 1 shows item 2, and announces the same size
            infe = _full_box(b"infe", 2, 0, struct.pack(">HH", 1, 0) + b"iden\x00") + infe
            dimg = _box(b"dimg", struct.pack(">HHH", 1, 1, 2)) + dimg
            items = struct.pack(">HHHH", 1, 1, 0, 0) + items
            ipma += struct.pack(">HBB", 1, 1, 3)
        ipco = _box(
            b"ipco",
            hvcc
            + _full_box(b"ispe", 0, 0, struct.pack(">II", side, side))
            + _full_box(b"ispe", 0, 0, struct.pack(">II", *ispe))
            + (_box(b"irot", bytes([rotation % 4])) if rotation % 4 else b""),
        )
        return _full_box(
            b"meta",
            0,
            0,
            _full_box(b"hdlr", 0, 0, bytes(4) + b"pict" + bytes(12) + b"\x00")
            + _full_box(b"pitm", 0, 0, struct.pack(">H", 1))
            + _full_box(b"iloc", 1, 0, b"\x44\x00" + struct.pack(">H", count) + items)
            + _full_box(b"iinf", 0, 0, struct.pack(">H", count) + infe)
            + _full_box(b"iref", 0, 0, dimg)
            + _box(b"iprp", ipco + _full_box(b"ipma", 0, 0, ipma))
            + _box(b"idat", descriptor),
        )

    ftyp = _box(b"ftyp", b"heic" + bytes(4) + b"mif1heic")
    data_at = len(ftyp) + len(meta(0)) + 8
    return ftyp + meta(data_at) + _box(b"mdat", coded)


def _heif_grid_near_limit(rng: Rng, mode: str = "RGB", rotation: int = 0) -> bytes:
    """A grid of up to 999 tiles, from a quarter of the pixel limit to the limit."""
    side = int(rng.choice([256, 512]))
    target = PIXEL_LIMIT * float(rng.uniform(0.25, 1.0)) / side**2
    columns = int(rng.integers(max(1, int(target / 999) + 1), min(255, int(target)) + 1))
    rows = max(1, min(255, int(target / columns), 999 // columns))
    return heif_grid(rows, columns, side, mode, rotation=rotation)


def _heif_grid_rotated(rng: Rng) -> bytes:
    """A grid near the limit turned by an ``irot`` property, as phones store portrait
    photos: libheif reports its size turned, and rotates the decoded image (one more copy)."""
    return _heif_grid_near_limit(rng, rotation=int(rng.integers(1, 4)))


def _heif_grid_10bit(rng: Rng) -> bytes:
    """The same with 10-bit tiles, colour or monochrome: deeper planes, and libheif hands
    a monochrome one over as 16-bit samples."""
    return _heif_grid_near_limit(rng, str(rng.choice(["RGB;16", "L;16"])))


def _heif_canvas_lie(rng: Rng) -> bytes:
    """A grid (shown directly or through an ``iden`` item) or an overlay whose property
    announces 640 x 480 while its descriptor composes up to 200 MP: libheif reports the
    first and allocates the second."""
    ispe = (640, 480)
    if rng.random() < 0.5:
        columns = int(rng.integers(20, 200))
        rows = max(1, min(999 // columns, 5))
        return heif_grid(rows, columns, 512, ispe=ispe, identity=rng.random() < 0.5)
    width, height = (int(v) for v in rng.integers(4000, 20_000, size=2))
    return heif_overlay(width, height, int(rng.integers(1, 8)), 256, ispe)


def _heif_top_flood(rng: Rng) -> bytes:
    """Up to four million empty ``free`` boxes between ``ftyp`` and ``meta``: libheif walks
    them in C, a reader in Python would take seconds."""
    grid = heif_grid(2, 3, 256)
    ftyp = struct.unpack_from(">I", grid, 0)[0]
    return grid[:ftyp] + _box(b"free", b"") * int(rng.integers(500, 4_000_000)) + grid[ftyp:]


def heif_described(copies: int, exif_bytes: int, side: int = 256) -> bytes:
    """A HEIF image described (``cdsc``) by ``copies`` Exif items that all share one extent
    of ``exif_bytes``: pillow-heif copies each when it opens the file."""
    hvcc, coded = _heif_tile(side)
    exif = struct.pack(">I", 0) + b"MM\x00*\x00\x00\x00\x08" + bytes(exif_bytes)
    ids = range(2, 2 + copies)

    def meta(data_at: int) -> bytes:
        infe = _full_box(b"infe", 2, 0, struct.pack(">HH", 1, 0) + b"hvc1\x00") + b"".join(
            _full_box(b"infe", 2, 0, struct.pack(">HH", i, 0) + b"Exif\x00") for i in ids
        )
        items = struct.pack(">HHHHII", 1, 0, 0, 1, data_at, len(coded)) + b"".join(
            struct.pack(">HHHHII", i, 0, 0, 1, data_at + len(coded), len(exif)) for i in ids
        )
        iref = b"".join(_box(b"cdsc", struct.pack(">HHH", i, 1, 1)) for i in ids)
        ipco = _box(b"ipco", hvcc + _full_box(b"ispe", 0, 0, struct.pack(">II", side, side)))
        return _full_box(
            b"meta",
            0,
            0,
            _full_box(b"hdlr", 0, 0, bytes(4) + b"pict" + bytes(12) + b"\x00")
            + _full_box(b"pitm", 0, 0, struct.pack(">H", 1))
            + _full_box(b"iloc", 1, 0, b"\x44\x00" + struct.pack(">H", 1 + copies) + items)
            + _full_box(b"iinf", 0, 0, struct.pack(">H", 1 + copies) + infe)
            + _full_box(b"iref", 0, 0, iref)
            + _box(
                b"iprp", ipco + _full_box(b"ipma", 0, 0, struct.pack(">IHBBB", 1, 1, 2, 0x81, 2))
            ),
        )

    ftyp = _box(b"ftyp", b"heic" + bytes(4) + b"mif1heic")
    data_at = len(ftyp) + len(meta(0)) + 8
    return ftyp + meta(data_at) + _box(b"mdat", coded + exif)


def _heif_shared_metadata(rng: Rng) -> bytes:
    """1 to 999 Exif items sharing one extent of up to 30 MB, all describing the image:
    pillow-heif copied every one at open (20 x 16 MB: 692 MB; 200 x 30 MB: 2 GB)."""
    copies = int(rng.integers(1, 1000)) if rng.random() < 0.8 else 1
    return heif_described(copies, int(rng.integers(1 << 16, 30 << 20)) // copies)


def _heif_no_size(rng: Rng) -> bytes:
    """A HEIF image or grid whose size properties (``ispe``) are renamed away: libheif then
    reports 0 x 0 and decodes the coded size, which no limit saw (a verdict with a 0 px
    size failed to validate: no verdict at all)."""
    if rng.random() < 0.5:
        data = heif_described(1, int(rng.integers(100, 10_000)))
    else:
        data = heif_grid(int(rng.integers(1, 8)), int(rng.integers(1, 8)), 256)
    return data.replace(b"ispe", b"xspe")


def heif_generators() -> dict[str, Generator]:
    return {
        "grid-near-limit": _heif_grid_near_limit,
        "grid-rotated": _heif_grid_rotated,
        "shared-metadata": _heif_shared_metadata,
        "no-size": _heif_no_size,
        "grid-10bit": _heif_grid_10bit,
        "canvas-lie": _heif_canvas_lie,
        "top-level-flood": _heif_top_flood,
        "ispe-huge": _heif_ispe,
        "box-size-lie": _heif_size_lie,
        "deep-nesting": _heif_deep_nesting,
        "many-properties": _heif_many_properties,
        "item-counts": _heif_item_counts,
        "iloc-extent": _heif_extent,
    }


# --- BMP: Pillow's run-length decoder is a Python loop -----------------------------------


def bmp_rle(width: int, height: int, codes: bytes, *, rle4: bool = False) -> bytes:
    """A palette BMP whose pixel data is the run-length ``codes`` (RLE8, or RLE4)."""
    colours = 16 if rle4 else 256
    palette = b"".join(struct.pack("<4B", i, i, i, 0) for i in range(colours))
    offset = 14 + 40 + len(palette)
    header = struct.pack("<2sIHHI", b"BM", offset + len(codes), 0, 0, offset)
    info = struct.pack(
        "<IiiHHIIiiII",
        40,
        width,
        height,
        1,
        4 if rle4 else 8,
        2 if rle4 else 1,
        len(codes),
        2835,
        2835,
        colours,
        0,
    )
    return header + info + palette + codes


def _rle_line_ends(rng: Rng) -> bytes:
    """One pixel then an end-of-line code per row: Pillow pads each row a byte at a time."""
    width = int(rng.integers(2000, 10_000))
    height = int(rng.integers(2_000_000, 80_000_000)) // width
    return bmp_rle(width, height, b"\x01\x10\x00\x00" * height + b"\x00\x01")


def _rle_short_runs(rng: Rng) -> bytes:
    """Rows of one-pixel runs (RLE8), or of long runs that RLE4 expands pixel by pixel."""
    width = int(rng.integers(1000, 5000))
    if rng.random() < 0.5:
        height = 15_000_000 // width
        return bmp_rle(width, height, (b"\x01\x10" * width + b"\x00\x00") * height)
    height = int(rng.integers(2_000_000, 80_000_000)) // width
    row = b"\xfe\x12" * (width // 254) + b"\x00\x00"
    return bmp_rle(width, height, row * height, rle4=True)


def bmp_generators() -> dict[str, Generator]:
    return {"rle-line-ends": _rle_line_ends, "rle-short-runs": _rle_short_runs}


# --- shapes: valid images one or two pixels thin ----------------------------------------


def _thin(rng: Rng) -> bytes:
    """A valid image 1 or 2 pixels thin and up to 16 000 long, in any Pillow format."""
    fmt = str(rng.choice(["JPEG", "PNG", "WEBP", "TIFF", "BMP"]))
    size = (int(rng.integers(1000, 16_001)), int(rng.integers(1, 3)))
    return saved(carrier(*(size if rng.random() < 0.5 else size[::-1])), fmt)


def shape_generators() -> dict[str, Generator]:
    return {"thin": _thin}


def families() -> dict[str, dict[str, Generator]]:
    """Every generator, by input class (family) and name."""
    return {
        "exif": exif_generators(),
        "png": png_generators(),
        "jpeg": jpeg_generators(),
        "icc": icc_generators(),
        "xmp": xmp_generators(),
        "webp": webp_generators(),
        "heif": heif_generators(),
        "tiff": tiff_generators(),
        "deep": deep_generators(),
        "bmp": bmp_generators(),
        "shapes": shape_generators(),
    }


def hostile_inputs(
    seed: int, *, per_generator: int = 1, only: Sequence[str] = ()
) -> Iterator[HostileInput]:
    """``per_generator`` inputs from each generator (of the ``only`` families, if given)."""
    rng = np.random.default_rng(seed)
    for family, generators in families().items():
        if only and family not in only:
            continue
        for name, generate in generators.items():
            for _ in range(per_generator):
                yield HostileInput(family, name, generate(rng))
