"""Read one file out of a compiled Qt resource bundle (``.rcc``).

GCompris ships its activities' photos inside ``.rcc`` bundles, not as loose files, so
the accuracy set needs this to reach them. Only what those bundles use is read: the
format versions 1-3, files stored as is or zlib-compressed (Qt's ``qCompress``).
The layout is Qt's documented ``rcc`` binary format: a header, a tree of fixed-size
nodes, a name table (UTF-16) and a data table, every integer big-endian.
"""

from __future__ import annotations

import struct
import zlib

_DIRECTORY = 0x02
_ZLIB = 0x01
_ZSTD = 0x04


def _u16(buf: bytes, at: int) -> int:
    return int(struct.unpack_from(">H", buf, at)[0])


def _u32(buf: bytes, at: int) -> int:
    return int(struct.unpack_from(">I", buf, at)[0])


class _Bundle:
    def __init__(self, buf: bytes) -> None:
        if buf[:4] != b"qres":
            raise ValueError("not a Qt resource bundle (no 'qres' magic)")
        version = _u32(buf, 4)
        if version not in (1, 2, 3):
            raise ValueError(f"unsupported Qt resource format version {version}")
        self.buf = buf
        self.tree, self.data, self.names = _u32(buf, 8), _u32(buf, 12), _u32(buf, 16)
        self.node_size = 14 if version == 1 else 22  # v2+ adds a last-modified stamp

    def name(self, node: int) -> str:
        at = self.names + _u32(self.buf, self.tree + node * self.node_size)
        length = _u16(self.buf, at)  # in UTF-16 code units; a 4-byte hash follows
        return self.buf[at + 6 : at + 6 + 2 * length].decode("utf-16-be")

    def flags(self, node: int) -> int:
        return _u16(self.buf, self.tree + node * self.node_size + 4)

    def child(self, node: int, name: str) -> int:
        base = self.tree + node * self.node_size
        count, first = _u32(self.buf, base + 6), _u32(self.buf, base + 10)
        for index in range(first, first + count):
            if self.name(index) == name:
                return index
        raise KeyError(name)

    def content(self, node: int) -> bytes:
        flags = self.flags(node)
        at = self.data + _u32(self.buf, self.tree + node * self.node_size + 10)
        payload = self.buf[at + 4 : at + 4 + _u32(self.buf, at)]
        if flags & _ZSTD:
            raise ValueError("zstd-compressed resources are not supported")
        if flags & _ZLIB:  # qCompress: the uncompressed size, then a zlib stream
            return zlib.decompress(payload[4:])
        return payload


def read_resource(bundle: bytes, path: str) -> bytes:
    """The file at ``path`` (``/a/b.webp`` or Qt's ``:/a/b.webp``) inside ``bundle``."""
    resources = _Bundle(bundle)
    node = 0  # the root directory
    for part in path.removeprefix(":").strip("/").split("/"):
        if not resources.flags(node) & _DIRECTORY:
            raise KeyError(path)
        node = resources.child(node, part)
    if resources.flags(node) & _DIRECTORY:
        raise IsADirectoryError(path)
    return resources.content(node)
