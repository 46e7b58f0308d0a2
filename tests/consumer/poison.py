"""Hostile uploads the consumer's stream tests mix in, beside :mod:`bench.hostile_inputs`.

The structural generators of issue 11 live in :mod:`bench.hostile_inputs` (issue
11's EXIF count bomb among them). These add the other shapes a stream must survive
whatever the engine makes of them: a decompression bomb, a dimension bomb, a damaged
file, and a 16-bit image near the pixel limit that needs more than a worker's memory
headroom and seconds of decoding.
"""

from __future__ import annotations

import struct
import zlib
from functools import cache

from bench.hostile_inputs import png_chunk, png_with_chunks
from tests.builders import images


@cache
def png_ztxt_bomb() -> bytes:
    """A small valid PNG carrying a zTXt chunk that inflates to 512 MiB of zeros."""
    inflater = zlib.compressobj(9)
    packed = b"".join(inflater.compress(bytes(2**24)) for _ in range(32)) + inflater.flush()
    return png_with_chunks([png_chunk(b"zTXt", b"Comment\x00\x00" + packed)])


@cache
def huge_dimensions_png() -> bytes:
    """A PNG header announcing 100 000 x 100 000 pixels, and no pixel data."""
    return images.png_header_only(100_000, 100_000)


@cache
def truncated_jpeg() -> bytes:
    return images.encode(images.sharp_photo(1024, 768))[:3000]


@cache
def wide_rgba16_png(width: int = 10_000, height: int = 9_900) -> bytes:
    """A 16-bit RGBA PNG just under the 100 MP limit: 770 KB that decode to 800 MB."""
    ihdr = struct.pack(">IIBBBBB", width, height, 16, 6, 0, 0, 0)
    row = bytes(1 + width * 8)  # filter byte, then 8 bytes per pixel
    deflater = zlib.compressobj(9)
    idat = b"".join(deflater.compress(row) for _ in range(height)) + deflater.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )
