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
import struct
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image

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
    count = 65535
    entries = [(int(rng.choice(_WANTED_TAGS)), 2, 4, 0x41424300) for _ in range(count)]
    return tiff_header() + ifd(entries)


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
    own = {
        0x0100: (0x0100, 4, 1, width),
        0x0101: (0x0101, 4, 1, height),
        0x0102: (0x0102, 3, 1, 8 << 16),
        0x0103: (0x0103, 3, 1, 1 << 16),
        0x0106: (0x0106, 3, 1, 1 << 16),
        0x0111: (0x0111, 4, 1, strip_at),
        0x0115: (0x0115, 3, 1, 1 << 16),
        0x0116: (0x0116, 4, 1, height),
        0x0117: (0x0117, 4, 1, len(pixels)),
    }
    own.update({entry[0]: entry for entry in extra})
    ifd_at = strip_at + len(pixels)
    directory = ifd(sorted(own.values()), next_offset)
    return tiff_header(ifd_at) + prefix[8:] + pixels + directory


def exif_generators() -> dict[str, Generator]:
    """Each EXIF block generator, wrapped in a JPEG, PNG, WebP or TIFF carrier."""

    def wrapped(block: Generator) -> Generator:
        return lambda rng: _exif_in(block(rng), rng)

    return {name: wrapped(block) for name, block in _EXIF_BLOCKS.items()}


def families() -> dict[str, dict[str, Generator]]:
    """Every generator, by input class (family) and name."""
    return {"exif": exif_generators()}


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
