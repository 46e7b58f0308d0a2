"""A bounded reader of TIFF image file directories (IFDs), the structure inside EXIF.

Why our own reader: general EXIF libraries trust the counts and offsets they read.
piexif built an unpack format from a 32-bit count and allocated gigabytes for one
12-byte entry. Here:

* every entry's ``count * type size`` is checked against the block before a byte
  of its value is read, and an entry that does not fit is dropped;
* only the tags the caller asks for are decoded, and each to at most
  :data:`MAX_VALUES` elements, so a huge MakerNote or string costs nothing;
* only the sub-directories the caller names are followed, each offset at most
  once (an IFD that points back at itself or at its parent is a loop, not a
  reason to recurse), and at most :data:`MAX_ENTRIES` entries are looked at in
  each directory.

Memory is therefore bounded by the (never copied) block and time by
``MAX_ENTRIES`` per visited directory, whatever the block says.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass

#: A decoded value: text and opaque types as bytes, numbers as a tuple of ints,
#: (signed) rationals as a tuple of ``(numerator, denominator)`` pairs.
Value = bytes | tuple[int, ...] | tuple[tuple[int, int], ...]

#: Entries looked at per directory; real EXIF directories hold well under 100.
MAX_ENTRIES = 512
#: Elements decoded per value (bytes for text); enough for any field the engine reads.
MAX_VALUES = 256

_ENTRY = 12
# TIFF 6.0 field types: (element size, struct code, or None for bytes and types the
# engine never reads, which stay opaque bytes).
_TYPES: dict[int, tuple[int, str | None]] = {
    1: (1, None),  # BYTE
    2: (1, None),  # ASCII
    3: (2, "H"),  # SHORT
    4: (4, "I"),  # LONG
    5: (8, "I"),  # RATIONAL
    6: (1, None),  # SBYTE
    7: (1, None),  # UNDEFINED
    8: (2, "h"),  # SSHORT
    9: (4, "i"),  # SLONG
    10: (8, "i"),  # SRATIONAL
    11: (4, None),  # FLOAT
    12: (8, None),  # DOUBLE
    13: (4, "I"),  # IFD
}


@dataclass(frozen=True, slots=True)
class DirectorySpec:
    """What to read from one directory: tags to decode, and pointer tags to follow.

    ``follow`` maps a pointer tag (e.g. 0x8769, the Exif IFD) to the name and spec
    of the directory it points at.
    """

    tags: frozenset[int]
    follow: Mapping[int, tuple[str, DirectorySpec]]


def read_directories(block: bytes | memoryview, root: DirectorySpec) -> dict[str, dict[int, Value]]:
    """Read IFD0 of a TIFF-structured ``block`` and the sub-directories ``root`` follows.

    Returns ``{"0th": {...}, name: {...}}`` with the wanted tags of each directory
    that holds at least one well-formed entry (a known type whose value lies inside
    the block): random bytes behind a TIFF header read as no directory at all. A
    block without a valid TIFF header gives ``{}``; no input raises.
    """
    header = _header(block)
    if header is None:
        return {}
    endian, first = header
    found: dict[str, dict[int, Value]] = {}
    visited: set[int] = set()
    pending: list[tuple[str, int, DirectorySpec]] = [("0th", first, root)]
    while pending:
        name, offset, spec = pending.pop()
        if name in found or offset in visited:
            continue
        visited.add(offset)
        entries = _entries(block, endian, offset)
        if not entries:
            continue
        values: dict[int, Value] = {}
        for tag, kind, count, start in entries:
            if tag in spec.follow:
                pointer = _value(block, endian, kind, count, start)
                if isinstance(pointer, tuple) and pointer and isinstance(pointer[0], int):
                    child_name, child_spec = spec.follow[tag]
                    pending.append((child_name, pointer[0], child_spec))
            elif tag in spec.tags and tag not in values:
                values[tag] = _value(block, endian, kind, count, start)
        found[name] = values
    return found


def _header(block: bytes | memoryview) -> tuple[str, int] | None:
    if len(block) < 8:
        return None
    if block[:4] == b"II*\x00":
        endian = "<"
    elif block[:4] == b"MM\x00*":
        endian = ">"
    else:
        return None
    (first,) = struct.unpack_from(endian + "I", block, 4)
    return endian, first


def _entries(
    block: bytes | memoryview, endian: str, offset: int
) -> list[tuple[int, int, int, int]]:
    """``(tag, type, count, value offset)`` of each entry whose type is known and value fits."""
    if offset < 8 or offset + 2 > len(block):
        return []
    (count,) = struct.unpack_from(endian + "H", block, offset)
    fits = (len(block) - offset - 2) // _ENTRY
    entries = []
    for index in range(min(count, fits, MAX_ENTRIES)):
        field = offset + 2 + index * _ENTRY
        tag, kind, n = struct.unpack_from(endian + "HHI", block, field)
        if kind not in _TYPES or n == 0:
            continue
        length = _TYPES[kind][0] * n
        start = field + 8 if length <= 4 else struct.unpack_from(endian + "I", block, field + 8)[0]
        if start + length <= len(block):
            entries.append((tag, kind, n, start))
    return entries


def _value(block: bytes | memoryview, endian: str, kind: int, count: int, start: int) -> Value:
    """Decode at most :data:`MAX_VALUES` elements of an entry :func:`_entries` checked."""
    code = _TYPES[kind][1]
    shown = min(count, MAX_VALUES)
    if code is None:
        return bytes(block[start : start + shown * _TYPES[kind][0]])
    if kind in (5, 10):
        flat = struct.unpack_from(f"{endian}{2 * shown}{code}", block, start)
        return tuple(zip(flat[0::2], flat[1::2], strict=True))
    return tuple(struct.unpack_from(f"{endian}{shown}{code}", block, start))


def first_directory_counts(block: bytes | memoryview, tags: frozenset[int]) -> dict[int, int]:
    """The element count of each of ``tags`` in IFD0, for sizes read without their values.

    A TIFF file's strip and tile counts say how much work a decoder will do
    before it does it; only entries whose value lies inside the block count.
    """
    header = _header(block)
    if header is None:
        return {}
    endian, first = header
    counts: dict[int, int] = {}
    for tag, _, count, _ in _entries(block, endian, first):
        if tag in tags:
            counts.setdefault(tag, count)
    return counts


#: Element sizes of the types Pillow reads from a classic TIFF (ours, and BigTIFF's 8-byte
#: LONG8, SLONG8 and IFD8).
_PILLOW_SIZES = {kind: size for kind, (size, _) in _TYPES.items()} | {16: 8, 17: 8, 18: 8}


def first_directory_value_bytes(block: bytes | memoryview) -> int:
    """Bytes of the values stored outside IFD0's entries, over every entry that fits.

    This is what Pillow reads and keeps when it opens a TIFF; unlike the readers
    above it looks at all (up to 65 535) entries, through one C-speed iteration.
    """
    header = _header(block)
    if header is None:
        return 0
    endian, first = header
    if first < 8 or first + 2 > len(block):
        return 0
    (count,) = struct.unpack_from(endian + "H", block, first)
    count = min(count, (len(block) - first - 2) // _ENTRY)
    table = block[first + 2 : first + 2 + count * _ENTRY]
    total = 0
    for _, kind, n, offset in struct.iter_unpack(endian + "HHII", table):
        size = _PILLOW_SIZES.get(kind, 0) * n
        if size > 4 and offset + size <= len(block):
            total += size
    return total


def first_directory_arrays(
    block: bytes | memoryview, tags: frozenset[int], limit: int
) -> dict[int, tuple[int, ...]]:
    """The whole value (at most ``limit`` elements) of each of ``tags`` in IFD0 that is a
    SHORT or LONG array: a TIFF's strip or tile offsets and byte counts, which
    :func:`read_directories` cuts at :data:`MAX_VALUES`."""
    header = _header(block)
    if header is None:
        return {}
    endian, first = header
    arrays: dict[int, tuple[int, ...]] = {}
    for tag, kind, count, start in _entries(block, endian, first):
        if tag in tags and tag not in arrays and kind in (3, 4):
            code = _TYPES[kind][1]
            arrays[tag] = struct.unpack_from(f"{endian}{min(count, limit)}{code}", block, start)
    return arrays
