"""The bounded IFD reader: hostile counts, offsets and loops cost nothing and raise nothing."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from bench.hostile_inputs import exif_generators, ifd, tiff_header
from core.exif import exif_orientation, parse_exif
from core.ifd import MAX_VALUES, DirectorySpec, read_directories

_MAKE, _MODEL, _ORIENTATION, _EXIF, _GPS, _ISO = 0x010F, 0x0110, 0x0112, 0x8769, 0x8825, 0x8827
_LEAF = DirectorySpec(tags=frozenset({_ISO, _MAKE}), follow={})
_ROOT = DirectorySpec(
    tags=frozenset({_MAKE, _MODEL, _ORIENTATION}),
    follow={_EXIF: ("Exif", _LEAF), _GPS: ("GPS", _LEAF)},
)


def _block(entries: list[tuple[int, int, int, int]], tail: bytes = b"") -> bytes:
    return tiff_header() + ifd(entries) + tail


def test_a_count_beyond_the_block_drops_that_entry_and_keeps_the_others() -> None:
    # Issue 11: Make as SHORT x 0x3FFFFFFF at offset 26; piexif allocated gigabytes.
    text_at = 8 + 2 + 12 * 2 + 4
    block = _block([(_MAKE, 3, 0x3FFFFFFF, 26), (_MODEL, 2, 8, text_at)], b"FP5 Pro\x00")
    assert read_directories(block, _ROOT) == {"0th": {_MODEL: b"FP5 Pro\x00"}}


@pytest.mark.parametrize("kind", [1, 2, 3, 4, 5, 7, 9, 10, 12])
def test_an_offset_past_the_end_is_dropped_for_every_type(kind: int) -> None:
    block = _block([(_MAKE, kind, 16, 0xFFFFFFF0), (_ORIENTATION, 3, 1, 6 << 16)])
    assert read_directories(block, _ROOT) == {"0th": {_ORIENTATION: (6,)}}


def test_loops_between_directories_visit_each_once() -> None:
    # IFD0's Exif pointer leads to a directory whose GPS pointer leads back to IFD0.
    second = 8 + 2 + 12 * 2 + 4
    first = ifd([(_EXIF, 4, 1, second), (_MAKE, 2, 4, 0x41424300)], 8)
    loop = ifd([(_GPS, 4, 1, 8), (_EXIF, 13, 1, second), (_ISO, 3, 1, 100 << 16)], second)
    found = read_directories(tiff_header() + first + loop, _ROOT)
    assert found == {"0th": {_MAKE: b"ABC\x00"}, "Exif": {_ISO: (100,)}}


def test_decoded_values_are_capped_but_must_fit_whole() -> None:
    long_text = b"X" * 60_000
    at = 8 + 2 + 12 + 4
    found = read_directories(_block([(_MAKE, 2, len(long_text), at)], long_text), _ROOT)
    assert found["0th"][_MAKE] == b"X" * MAX_VALUES
    truncated = _block([(_MAKE, 2, len(long_text) + 1, at)], long_text)
    assert read_directories(truncated, _ROOT) == {}


def test_random_bytes_behind_a_valid_header_are_no_exif() -> None:
    noise = np.random.default_rng(3).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    assert not parse_exif(tiff_header() + noise).present
    assert exif_orientation(tiff_header() + noise) == 1


def test_little_endian_nested_directories_are_read() -> None:
    exif_at = 8 + 2 + 12 * 2 + 4
    first = ifd([(_ORIENTATION, 3, 1, 8), (_EXIF, 4, 1, exif_at)], 0, "<")
    exif = ifd([(_ISO, 3, 1, 400)], 0, "<")
    block = b"Exif\x00\x00" + tiff_header(8, "<") + first + exif
    assert exif_orientation(block) == 8
    assert parse_exif(block).fields == {"orientation", "iso"}


@pytest.mark.parametrize("name", sorted(exif_generators()))
def test_generated_exif_attacks_parse_without_raising(name: str) -> None:
    # The carrier's EXIF block is all the reader sees; it must simply parse.
    for seed in range(3):
        data = exif_generators()[name](np.random.default_rng(seed))
        assert parse_exif(data[data.find(b"MM\x00*") :]).completeness <= 100


def test_header_offset_into_nowhere_is_no_exif() -> None:
    assert read_directories(b"MM\x00*" + struct.pack(">I", 0xFFFFFFFF), _ROOT) == {}
