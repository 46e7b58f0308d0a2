"""The canvas a HEIF's primary item declares in its own data, read before libheif decodes it.

Why: libheif reports an image's size from its ``ispe`` property, but a derived image (a
``grid`` of tiles, an ``iovl`` overlay) is composed on the canvas its own descriptor
declares. A valid grid whose ``ispe`` said 640 x 480 while its descriptor said 87 040 x
2560 passed the pixel limit and the decode budget, then libheif decoded 850 tiles onto a
222 MP canvas: 320 MB and 2 s of CPU, before it called the file corrupt. So the canvas is
read here (``pitm``, ``iinf``, ``iloc``, ``idat``: a few boxes, each read once) and the
limits apply to the larger of the two. An identity item (``iden``, a rotation or crop
of another) shows the canvas of the item it derives from: 332 MB the same way.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from core.errors import TooComplexError

#: Item types whose data describe a canvas, and where its size sits in that data.
_DERIVED = frozenset({b"grid", b"iovl"})
#: Identity (``iden``) items followed to the image they show; libheif follows a chain.
_MAX_IDENTITIES = 8
#: Top-level boxes walked to find ``meta``; a HEIF photo has a handful.
MAX_TOP_BOXES = 1024


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """``(type, body start, body end)`` of the boxes between ``start`` and ``end``."""
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1 and at + 16 <= end:
            size, header = struct.unpack_from(">Q", data, at + 8)[0], 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            return
        yield kind, at + header, at + size
        at += size


def _uint(data: bytes, at: int, size: int) -> int:
    return int.from_bytes(data[at : at + size], "big") if size else 0


def _primary(data: bytes, body: int, end: int) -> int | None:
    size = 2 if body < end and data[body] == 0 else 4
    return _uint(data, body + 4, size) if body + 4 + size <= end else None


def _item_type(data: bytes, body: int, end: int, item: int) -> bytes | None:
    """The ``infe`` type of ``item`` (``infe`` versions 2 and 3) in an ``iinf`` body."""
    first = body + (6 if data[body] == 0 else 8)
    for kind, start, stop in _boxes(data, first, end):
        version = data[start] if kind == b"infe" and start < stop else 0
        if version not in (2, 3):
            continue
        id_size = 2 if version == 2 else 4
        if _uint(data, start + 4, id_size) == item:
            at = start + 4 + id_size + 2
            return data[at : at + 4]
    return None


def _item_data(data: bytes, body: int, end: int, item: int, idat: bytes) -> bytes | None:
    """The first extent of ``item`` (from the file, or from ``idat``) in an ``iloc`` body."""
    version = data[body]
    if version > 2 or body + 8 > end:
        return None
    offset_size, length_size = data[body + 4] >> 4, data[body + 4] & 15
    base_size, index_size = data[body + 5] >> 4, data[body + 5] & 15 if version else 0
    count_size = 4 if version == 2 else 2
    at = body + 6
    count, at = _uint(data, at, count_size), at + count_size
    for _ in range(count):
        if at + 16 > end:
            return None
        item_id, at = _uint(data, at, count_size), at + count_size
        method = _uint(data, at, 2) & 15 if version else 0
        at += (2 if version else 0) + 2
        base, at = _uint(data, at, base_size), at + base_size
        extents, at = _uint(data, at, 2), at + 2
        first = at + index_size
        offset, length = (
            _uint(data, first, offset_size),
            _uint(data, first + offset_size, length_size),
        )
        at += extents * (index_size + offset_size + length_size)
        if item_id == item:
            source = idat if method == 1 else data
            return source[base + offset : base + offset + (length or 16)]
    return None


def _source(data: bytes, body: int, end: int, item: int) -> int | None:
    """The first item ``item`` is derived from (its ``dimg`` reference) in an ``iref`` body."""
    id_size = 2 if body < end and data[body] == 0 else 4
    for kind, start, stop in _boxes(data, body + 4, end):
        if (
            kind == b"dimg"
            and start + 2 * id_size + 2 <= stop
            and _uint(data, start, id_size) == item
        ):
            return _uint(data, start + id_size + 2, id_size)
    return None


def _canvas(kind: bytes, descriptor: bytes) -> tuple[int, int] | None:
    """Output width and height of a ``grid`` or ``iovl`` descriptor."""
    head = 4 if kind == b"grid" else 10  # version, flags, rows, columns / fill values
    if len(descriptor) < head:
        return None
    wide = descriptor[1] & 1
    size = 4 if wide else 2
    if len(descriptor) < head + 2 * size:
        return None
    return _uint(descriptor, head, size), _uint(descriptor, head + size, size)


def _meta(data: bytes) -> tuple[bytes, int, int] | None:
    """The top-level ``meta`` box. libheif walks any number of boxes before it (2 million
    empty ``free`` boxes: 0.07 s in C, 0.5 s here), so past :data:`MAX_TOP_BOXES` the file
    is refused rather than walked."""
    for count, box in enumerate(_boxes(data, 0, len(data))):
        if count >= MAX_TOP_BOXES:
            raise TooComplexError(f"over {MAX_TOP_BOXES} top-level HEIF boxes before 'meta'")
        if box[0] == b"meta":
            return box
    return None


#: Metadata (Exif, XMP) libheif and pillow-heif copy, each reference counted: pillow-heif
#: reads every metadata item of an image at open, in several copies. 20 Exif items sharing
#: one 16 MB extent took 692 MB, 200 sharing 30 MB 2 GB, one of 16 MB 65 MB (measured);
#: an honest photo's Exif and XMP are a few kB to a few hundred.
MAX_METADATA_BYTES = 8 * 2**20
#: Items libheif accepts (its security limit): past them it refuses the file before it
#: reads any metadata, so the walk leaves the file to it.
_MAX_ITEMS = 1000
#: Boxes in ``meta`` or ``iref``, and extents over all items, this walk reads before
#: libheif has validated anything; an honest photo has a few dozen of each.
_MAX_CHILDREN, _MAX_EXTENTS = 10_000, 10_000


def check_metadata(data: bytes) -> None:
    """Refuse a HEIF whose metadata items, counted once per image they describe (``cdsc``),
    exceed :data:`MAX_METADATA_BYTES`: items may share one extent, and libheif copies each.

    Runs before libheif opens the file, so every walk is bounded here: at most
    :data:`_MAX_CHILDREN` boxes in ``meta`` and ``iref`` and :data:`_MAX_EXTENTS` extents
    (past them: too complex), and :data:`_MAX_ITEMS` items, libheif's own limit.
    """
    meta = _meta(data)
    if meta is None:
        return
    children = _children(data, meta[1] + 4, meta[2])
    if b"iloc" not in children or b"iref" not in children:
        return
    lengths = _item_lengths(data, *children[b"iloc"])
    iref, iref_end = children[b"iref"]
    id_size = 2 if iref < iref_end and data[iref] == 0 else 4
    total = 0
    for kind, start, stop in _children_list(data, iref + 4, iref_end):
        if kind == b"cdsc":  # an item that describes others: their metadata
            targets = min(_uint(data, start + id_size, 2), (stop - start - 2) // id_size - 1)
            total += lengths.get(_uint(data, start, id_size), 0) * max(0, targets)
    if total > MAX_METADATA_BYTES:
        raise TooComplexError(
            f"the HEIF's metadata items come to {total / 2**20:.0f} MB, counted once per image "
            f"they describe: over the {MAX_METADATA_BYTES >> 20} MB limit"
        )


def _children_list(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    boxes = []
    for box in _boxes(data, start, end):
        boxes.append(box)
        if len(boxes) > _MAX_CHILDREN:
            raise TooComplexError(f"over {_MAX_CHILDREN} boxes in a HEIF box")
    return boxes


def _children(data: bytes, start: int, end: int) -> dict[bytes, tuple[int, int]]:
    found: dict[bytes, tuple[int, int]] = {}
    for kind, body, stop in _children_list(data, start, end):
        found.setdefault(kind, (body, stop))
    return found


def _item_lengths(data: bytes, body: int, end: int) -> dict[int, int]:
    """Bytes of each item's extents (all of them) in an ``iloc`` body."""
    version = data[body] if body < end else 3
    if version > 2 or body + 8 > end:
        return {}
    offset_size, length_size = data[body + 4] >> 4, data[body + 4] & 15
    base_size, index_size = data[body + 5] >> 4, data[body + 5] & 15 if version else 0
    count_size = 4 if version == 2 else 2
    count, at = _uint(data, body + 6, count_size), body + 6 + count_size
    if count > _MAX_ITEMS:  # libheif refuses the file
        return {}
    lengths: dict[int, int] = {}
    step, walked = index_size + offset_size + length_size, 0
    for _ in range(count):
        item, at = _uint(data, at, count_size), at + count_size
        at += (2 if version else 0) + 2 + base_size  # method, data reference, base offset
        extents, at = _uint(data, at, 2), at + 2
        walked += extents
        if walked > _MAX_EXTENTS:
            raise TooComplexError(f"over {_MAX_EXTENTS} extents in a HEIF's items")
        if at + extents * step > end:
            return lengths
        for extent in range(extents):
            first = at + extent * step + index_size
            length = _uint(data, first + offset_size, length_size)
            lengths[item] = lengths.get(item, 0) + (length or len(data))  # 0: to the end
        at += extents * step
    return lengths


def declared_canvas(data: bytes) -> tuple[int, int] | None:
    """The canvas of the primary item when it is a grid or an overlay, else ``None``.

    Read after libheif accepted the file: its limits (100 boxes in ``meta``, 1000 items)
    bound every walk here but the top-level one.
    """
    meta = _meta(data)
    if meta is None:
        return None
    children = {kind: (start, stop) for kind, start, stop in _boxes(data, meta[1] + 4, meta[2])}
    if not {b"pitm", b"iinf", b"iloc"} <= children.keys():
        return None
    item = _primary(data, *children[b"pitm"])
    kind = None if item is None else _item_type(data, *children[b"iinf"], item)
    for _ in range(_MAX_IDENTITIES):  # an identity (iden) item shows the one it derives from
        if item is None or kind != b"iden" or b"iref" not in children:
            break
        item = _source(data, *children[b"iref"], item)
        kind = None if item is None else _item_type(data, *children[b"iinf"], item)
    if item is None or kind not in _DERIVED:
        return None
    idat = data[slice(*children[b"idat"])] if b"idat" in children else b""
    descriptor = _item_data(data, *children[b"iloc"], item, idat)
    return None if descriptor is None else _canvas(kind, descriptor)
