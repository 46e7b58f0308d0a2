"""How many Huffman groups a lossless WebP stream makes libwebp build, read before it does.

Why: libwebp builds the five codes of every group of a VP8L image's meta-Huffman image
before it decodes a pixel, about 5 KiB touched and 12 KiB reserved per group. The format
allows 65 536 groups, and a valid 1 MP, 295 kB file that uses them all made libwebp take
361 MB (468 MB at 14 MP). libwebp's own encoder keeps the meta image to 2600 pixels, so
real files have at most that many groups. The count is only known once the transforms'
sub-images are read, and those have no length fields, so their entropy-coded symbols are
decoded here (no pixel is kept), within :data:`MAX_SYMBOLS`. Lossless alpha (``ALPH``
with compression 1) is the same kind of stream, without its header.

Anything this reader cannot follow (a code that is not complete, a stream that ends
early) is left to libwebp, which refuses the same streams.
"""

from __future__ import annotations

import struct

from core.errors import TooComplexError

#: Huffman groups libwebp may build for one image: about 50 MB reserved at most.
MAX_GROUPS = 4096
#: Entropy-coded symbols decoded to reach the group count (about 0.2 s in Python; a
#: 15 MP libwebp file's transforms take a few tens of thousands).
MAX_SYMBOLS = 1 << 18

#: RIFF chunks walked to the first image's stream; real files have a handful.
MAX_CHUNKS = 1024

_ORDER = (17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
_REPEATS = {16: (2, 3), 17: (3, 3), 18: (7, 11)}  # code: (extra bits, offset)
_LITERALS, _LENGTH_CODES, _DISTANCE_CODES = 256, 24, 40


class _UnreadableError(Exception):
    """A stream libwebp would refuse; the decoder gets to say so."""


class _Bits:
    """LSB-first bit reader, as VP8L packs its bits, through a window of at least 32 bits."""

    def __init__(self, data: bytes | memoryview) -> None:
        self.data, self.symbols = data, 0
        self.at, self.window, self.held = 0, 0, 0  # next byte, its bits, how many

    def peek(self, count: int) -> int:
        if self.held < count:
            chunk = self.data[self.at : self.at + 6]
            self.window |= int.from_bytes(chunk, "little") << self.held
            self.at += 6
            self.held += 48
        return self.window & ((1 << count) - 1)

    def read(self, count: int) -> int:
        value = self.peek(count)
        self.window >>= count
        self.held -= count
        if 8 * self.at - self.held > 8 * len(self.data):
            raise _UnreadableError("the stream ends early")
        return value


class _Code:
    """A canonical Huffman code, decoded through a table of its longest code's bits."""

    def __init__(self, lengths: list[int]) -> None:
        used = [(length, symbol) for symbol, length in enumerate(lengths) if length]
        if not used:
            raise _UnreadableError("a code without symbols")
        self.bits = max(length for length, _ in used)
        if len(used) == 1:  # one symbol takes no bits
            self.bits, self.table = 0, [(used[0][1], 0)]
            return
        self.table = [(-1, 0)] * (1 << self.bits)
        code, previous = 0, 0
        for length, symbol in sorted(used):
            code <<= length - previous
            previous = length
            if code >= 1 << length:
                raise _UnreadableError("an over-subscribed code")
            reversed_code = int(f"{code:0{length}b}"[::-1], 2)
            for slot in range(reversed_code, 1 << self.bits, 1 << length):
                self.table[slot] = (symbol, length)
            code += 1
        if code != 1 << self.bits:
            raise _UnreadableError("an incomplete code")

    def decode(self, bits: _Bits) -> int:
        symbol, length = self.table[bits.peek(self.bits)]
        bits.read(length)
        bits.symbols += 1
        if bits.symbols > MAX_SYMBOLS:
            raise TooComplexError(
                f"the lossless WebP takes over {MAX_SYMBOLS} symbols to read its codes"
            )
        return symbol


def _code_lengths(bits: _Bits, alphabet: int) -> list[int]:
    """The code lengths of a normal code (a code-length code, then run-length symbols)."""
    order_lengths = [0] * 19
    for slot in _ORDER[: bits.read(4) + 4]:
        order_lengths[slot] = bits.read(3)
    length_code = _Code(order_lengths)
    limit = alphabet
    if bits.read(1):
        limit = 2 + bits.read(2 + 2 * bits.read(3))
        if limit > alphabet:
            raise _UnreadableError("more code lengths than symbols")
    lengths, previous = [0] * alphabet, 8
    symbol = 0
    while symbol < alphabet and limit > 0:
        limit -= 1
        value = length_code.decode(bits)
        if value < 16:
            lengths[symbol] = value
            previous = value or previous
            symbol += 1
            continue
        extra, offset = _REPEATS[value]
        repeat = bits.read(extra) + offset
        if symbol + repeat > alphabet:
            raise _UnreadableError("a repeat past the alphabet")
        lengths[symbol : symbol + repeat] = [previous if value == 16 else 0] * repeat
        symbol += repeat
    return lengths


def _read_code(bits: _Bits, alphabet: int) -> _Code:
    if not bits.read(1):
        return _Code(_code_lengths(bits, alphabet))
    lengths = [0] * alphabet
    count = bits.read(1) + 1
    symbols = [bits.read(8 if bits.read(1) else 1)]
    if count == 2:
        symbols.append(bits.read(8))
    for symbol in symbols:
        if symbol >= alphabet:
            raise _UnreadableError("a symbol past the alphabet")
        lengths[symbol] = 1
    return _Code(lengths)


def _prefixed(bits: _Bits, prefix: int) -> int:
    if prefix < 4:
        return prefix + 1
    extra = (prefix - 2) >> 1
    return ((2 + (prefix & 1)) << extra) + bits.read(extra) + 1


def _entropy_image(bits: _Bits, pixels: int, *, groups: bool = False) -> set[int]:
    """Decode an image stream without meta codes; with ``groups``, the ``(red << 8) | green``
    of its literals (a copy or a cache hit repeats an earlier pixel)."""
    cache_bits = bits.read(4) if bits.read(1) else 0
    if not 0 <= cache_bits <= 11:
        raise _UnreadableError("a colour cache over 11 bits")
    green_size = _LITERALS + _LENGTH_CODES + (1 << cache_bits if cache_bits else 0)
    green, red, blue, alpha = (_read_code(bits, size) for size in (green_size, 256, 256, 256))
    distance = _read_code(bits, _DISTANCE_CODES)
    seen: set[int] = set()
    done = 0
    while done < pixels:
        symbol = green.decode(bits)
        if symbol < _LITERALS:
            group = (red.decode(bits) << 8) | symbol
            if groups:
                seen.add(group)
                if len(seen) > MAX_GROUPS:
                    raise TooComplexError(
                        f"the lossless WebP asks for over {MAX_GROUPS} Huffman code groups"
                    )
            blue.decode(bits)
            alpha.decode(bits)
            done += 1
        elif symbol < _LITERALS + _LENGTH_CODES:
            done += _prefixed(bits, symbol - _LITERALS)
            _prefixed(bits, distance.decode(bits))
        else:
            done += 1
    return seen


def _groups(bits: _Bits, width: int, height: int) -> int:
    """Read a level-0 stream's transforms and colour cache; its Huffman group count."""
    seen_transforms: set[int] = set()
    while bits.read(1):
        kind = bits.read(2)
        if kind in seen_transforms:
            raise _UnreadableError("a transform used twice")
        seen_transforms.add(kind)
        if kind in (0, 1):  # predictor, cross-colour: a sub-image of per-block values
            block = bits.read(3) + 2
            _entropy_image(bits, _blocks(width, block) * _blocks(height, block))
        elif kind == 3:  # colour indexing: a palette, then packed pixels
            colours = bits.read(8) + 1
            _entropy_image(bits, colours)
            packing = 0 if colours > 16 else 1 if colours > 4 else 2 if colours > 2 else 3
            width = _blocks(width, packing)
    if bits.read(1):
        bits.read(4)  # colour cache bits: they size the codes, not the groups
    if not bits.read(1):
        return 1
    block = bits.read(3) + 2
    used = _entropy_image(bits, _blocks(width, block) * _blocks(height, block), groups=True)
    highest = max(used, default=0) + 1
    return len(used) if highest > 1000 else highest  # libwebp maps a sparse set as used


def _blocks(size: int, bits: int) -> int:
    return (size + (1 << bits) - 1) >> bits


def _first_stream(data: bytes) -> tuple[memoryview, int, int, bool] | None:
    """The first image's lossless stream (after its header), its size, and whether it is
    the image itself: a ``VP8L`` chunk (``True``), or ``ALPH`` with lossless compression,
    at the top level or in the first animation frame."""
    at, end, view = 12, len(data), memoryview(data)  # chunks are read in place, not copied
    width = height = walked = 0
    while at + 8 <= end:
        walked += 1
        if walked > MAX_CHUNKS:  # libwebp walks millions of empty chunks in C; not here
            raise TooComplexError(f"over {MAX_CHUNKS} WebP chunks before the first image")
        kind, size = data[at : at + 4], struct.unpack_from("<I", data, at + 4)[0]
        body = view[at + 8 : at + 8 + size]
        if kind == b"VP8X" and len(body) >= 10:
            width = 1 + int.from_bytes(body[4:7], "little")
            height = 1 + int.from_bytes(body[7:10], "little")
        elif kind == b"VP8L" and len(body) >= 5 and body[0] == 0x2F:
            header = int.from_bytes(body[1:5], "little")
            return body[5:], 1 + (header & 0x3FFF), 1 + ((header >> 14) & 0x3FFF), True
        elif kind == b"ALPH" and body[:1] and body[0] & 0x03 == 1 and width:
            return body[1:], width, height, False
        elif kind == b"ANMF" and len(body) >= 16:
            width = 1 + int.from_bytes(body[6:9], "little")
            height = 1 + int.from_bytes(body[9:12], "little")
            at, end = at + 8 + 16, min(at + 8 + size, len(data))  # the frame's own chunks
            continue
        at += 8 + size + (size & 1)
    return None


def check_vp8l_groups(data: bytes) -> None:
    """Raise :class:`TooComplexError` when a WebP's lossless stream needs over
    :data:`MAX_GROUPS` Huffman groups, or over :data:`MAX_SYMBOLS` symbols to tell."""
    stream = _first_stream(data)
    if stream is None:
        return
    payload, width, height, _ = stream
    try:
        groups = _groups(_Bits(payload), width, height)
    except _UnreadableError:
        return
    if groups > MAX_GROUPS:
        raise TooComplexError(
            f"the lossless WebP asks for {groups} Huffman code groups, over the limit of "
            f"{MAX_GROUPS}"
        )


def first_image_lossless(data: bytes) -> bool:
    """Whether a WebP's first image is lossless (``VP8L``): libwebp's lossless decoder
    holds an ARGB copy of it, 4 bytes a pixel, besides the canvases it composes on."""
    stream = _first_stream(data)
    return stream is not None and stream[3]
