"""What inflating a file's deflate (zlib) streams will cost, counted before a decoder inflates them.

Why: zlib builds a block's Huffman tables before the block's first symbol, about 0.9 us
for a dynamic block. One whose header is 12 bytes and that codes nothing but its end is
valid deflate and inflates to nothing: 2.8 million of them in front of a 64 x 64 PNG's
pixels (a 32 MB file) took Pillow 2.3 s of CPU, a zTXt or iCCP chunk of them 2.4 s, a
TIFF strip of them 2.5 s. No size read from a header can tell them from pixels, and no
count of output against input either: a few bytes of a very compressible image pay for
any amount of padding. Their cost is the number of blocks, which only inflating shows.

Python's ``zlib`` module hides block boundaries, so :func:`count_blocks` drives the
system zlib (the library Pillow and libtiff inflate with) through ``ctypes``, with
``Z_BLOCK``: inflate returns at the end of every block, and the walk stops past a
block budget. Honest encoders write a block per 16 000 symbols or so (zlib at its
default memory level; a 160 MB image is about 10 000 blocks). The price: an honest
file's deflate data is inflated once more, but for its last :data:`UNCHECKED_BYTES`
(whose padding would cost at most 0.17 s): 0.1 s for a 22 MB 12 MP PNG, 0.16 s for a
28 MB deflate TIFF, nothing for a file of up to 2 MiB of deflate data.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

from core.errors import TooComplexError

#: Deflate bytes at the end of a file's streams that the walk leaves out: empty dynamic
#: blocks cost about 80 ns a byte to inflate (measured), so at most about 0.17 s.
UNCHECKED_BYTES = 2 * 2**20

#: Deflate blocks the streams of one file may hold: about 0.05 s of table building at the
#: worst (blocks that code nothing), and 0.12 s of this walk, against at most 10 000 in
#: an honest 160 MB image (zlib writes a block per 16 384 symbols at its default memory
#: level; a block per row, from a writer that flushes each, is 65 535 at the most).
MAX_DEFLATE_BLOCKS = 50_000

#: Scratch output of the walk, overwritten as it goes (the inflated bytes are not kept).
_SCRATCH_BYTES = 1 << 18

_Z_OK, _Z_STREAM_END, _Z_BLOCK = 0, 1, 5
#: ``data_type`` bit zlib sets when inflate returned at the end of a block.
_AT_BLOCK_END = 128
#: zlib's window bits: a zlib header, a 32 KiB window.
_ZLIB_WINDOW = 15


class _ZStream(ctypes.Structure):
    """zlib's ``z_stream``, field for field (zlib.h)."""

    _fields_ = [
        ("next_in", ctypes.c_void_p),
        ("avail_in", ctypes.c_uint),
        ("total_in", ctypes.c_ulong),
        ("next_out", ctypes.c_void_p),
        ("avail_out", ctypes.c_uint),
        ("total_out", ctypes.c_ulong),
        ("msg", ctypes.c_char_p),
        ("state", ctypes.c_void_p),
        ("zalloc", ctypes.c_void_p),
        ("zfree", ctypes.c_void_p),
        ("opaque", ctypes.c_void_p),
        ("data_type", ctypes.c_int),
        ("adler", ctypes.c_ulong),
        ("reserved", ctypes.c_ulong),
    ]


@dataclass(frozen=True, slots=True)
class DeflateStream:
    """One zlib stream of a file: its pieces ``(offset, length)`` in order (a PNG's
    IDAT chunks), and how many bytes its decoder inflates at most before it stops."""

    pieces: Sequence[tuple[int, int]]
    output_limit: int

    @property
    def size(self) -> int:
        return sum(length for _, length in self.pieces)


@functools.cache
def _zlib() -> ctypes.CDLL:
    """The system zlib, loaded once: Python's own ``zlib`` module links the same library."""
    library = ctypes.CDLL(ctypes.util.find_library("z") or "libz.so.1")
    library.zlibVersion.restype = ctypes.c_char_p
    library.inflateInit2_.argtypes = [
        ctypes.POINTER(_ZStream),
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
    ]
    library.inflate.argtypes = [ctypes.POINTER(_ZStream), ctypes.c_int]
    library.inflateEnd.argtypes = [ctypes.POINTER(_ZStream)]
    library.inflateReset.argtypes = [ctypes.POINTER(_ZStream)]
    return library


def check_deflate_blocks(data: bytes, streams: Sequence[DeflateStream]) -> None:
    """Raise :class:`TooComplexError` when ``streams`` hold over :data:`MAX_DEFLATE_BLOCKS`
    blocks (plus two a stream: a TIFF strip's own stream is a block or two) before their
    last :data:`UNCHECKED_BYTES`, which are not walked."""
    walked = sum(stream.size for stream in streams) - UNCHECKED_BYTES
    if walked <= 0:
        return
    budget = MAX_DEFLATE_BLOCKS + 2 * len(streams)
    if count_blocks(data, streams, budget, walked) > budget:
        raise TooComplexError(
            f"over {budget} deflate blocks in the image's compressed data "
            "(an honest encoder writes one per 16 000 symbols or so)"
        )


def count_blocks(
    data: bytes, streams: Sequence[DeflateStream], budget: int, input_limit: int
) -> int:
    """Deflate blocks in the first ``input_limit`` bytes of ``streams``, each stream walked
    until it ends, is damaged, or has inflated its ``output_limit``; the count stops past
    ``budget``."""
    library = _zlib()
    state = _ZStream()
    version = zlib.ZLIB_RUNTIME_VERSION.encode()
    if library.inflateInit2_(state, _ZLIB_WINDOW, version, ctypes.sizeof(_ZStream)) != _Z_OK:
        return 0
    scratch = ctypes.create_string_buffer(_SCRATCH_BYTES)
    source = ctypes.c_char_p(data)  # the bytes' own buffer, not a copy
    base = ctypes.cast(source, ctypes.c_void_p).value or 0
    blocks = 0
    try:
        for stream in streams:
            pieces = _prefix(_inside(stream.pieces, len(data)), input_limit)
            input_limit -= sum(length for _, length in pieces)
            blocks += _walk(
                library, state, scratch, base, replace(stream, pieces=pieces), budget - blocks
            )
            if blocks > budget or input_limit <= 0:
                break
            library.inflateReset(state)
    finally:
        library.inflateEnd(state)
    return blocks


def _inside(pieces: Sequence[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """``pieces`` cut to the ``size`` bytes: zlib is never handed memory outside them."""
    return [
        (offset, min(length, size - offset))
        for offset, length in pieces
        if 0 <= offset < size and length > 0
    ]


def _prefix(pieces: Sequence[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    """The first ``limit`` bytes of ``pieces``."""
    kept = []
    for offset, length in pieces:
        if limit <= 0:
            break
        kept.append((offset, min(length, limit)))
        limit -= length
    return kept


def _walk(
    library: ctypes.CDLL,
    state: _ZStream,
    scratch: ctypes.Array[ctypes.c_char],
    base: int,
    stream: DeflateStream,
    budget: int,
) -> int:
    """Blocks of one stream, inflated into ``scratch`` from the address ``base``."""
    blocks = produced = 0
    for offset, length in stream.pieces:
        state.next_in, state.avail_in = base + offset, length
        while state.avail_in and blocks <= budget and produced < stream.output_limit:
            state.next_out, state.avail_out = ctypes.addressof(scratch), _SCRATCH_BYTES
            status = library.inflate(state, _Z_BLOCK)
            produced += _SCRATCH_BYTES - state.avail_out
            blocks += bool(state.data_type & _AT_BLOCK_END)
            if status != _Z_OK:  # the end, damage, or no progress possible
                return blocks
    return blocks
