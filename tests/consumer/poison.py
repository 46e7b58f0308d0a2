"""Hostile uploads for the consumer's containment tests: valid containers, hostile fields.

Kept small on purpose: the structural generators of issue 11 live with the engine's
tests; these are the few the consumer needs to prove that one input cannot take a
replica down, whatever the engine does with it.
"""

from __future__ import annotations

import struct
import zlib
from functools import cache

from tests.builders import images


def _with_app1(jpeg: bytes, body: bytes) -> bytes:
    segment = b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
    return jpeg[:2] + segment + jpeg[2:]


@cache
def exif_count_bomb() -> bytes:
    """Issue 11's reproduction: a 1000x700 JPEG whose EXIF IFD0 holds one entry, Make
    (0x010F), type SHORT, count 0x3FFFFFFF, offset 26 (the end of the block).

    A parser that trusts the count builds a 1 G-element unpack format (2.2 GB RSS)."""
    tiff = b"II*\x00" + struct.pack("<I", 8)
    ifd = struct.pack("<H", 1) + struct.pack("<HHII", 0x010F, 3, 0x3FFFFFFF, 26)
    body = b"Exif\x00\x00" + tiff + ifd + struct.pack("<I", 0)
    return _with_app1(images.encode(images.sharp_photo(1000, 700), quality=92), body)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


@cache
def png_ztxt_bomb() -> bytes:
    """A small valid PNG carrying a zTXt chunk that inflates to 512 MiB of zeros."""
    png = images.encode(images.sharp_photo(400, 300), "PNG")
    inflater = zlib.compressobj(9)
    packed = b"".join(inflater.compress(bytes(2**24)) for _ in range(32)) + inflater.flush()
    chunk = _png_chunk(b"zTXt", b"Comment\x00\x00" + packed)
    return png[:33] + chunk + png[33:]


@cache
def huge_dimensions_png() -> bytes:
    """A PNG header announcing 100 000 x 100 000 pixels, and no pixel data."""
    return images.png_header_only(100_000, 100_000)


@cache
def garbage_exif_jpeg() -> bytes:
    return images.with_garbage_exif(images.encode(images.sharp_photo(640, 480)))


@cache
def truncated_jpeg() -> bytes:
    return images.encode(images.sharp_photo(1024, 768))[:3000]


#: Every hostile input above, by name.
ALL = {
    "exif_count_bomb": exif_count_bomb,
    "png_ztxt_bomb": png_ztxt_bomb,
    "huge_dimensions_png": huge_dimensions_png,
    "garbage_exif_jpeg": garbage_exif_jpeg,
    "truncated_jpeg": truncated_jpeg,
}
