"""``bench.core_speed --before``: the other checkout's engine is the one that is timed."""

from __future__ import annotations

import shutil
from pathlib import Path

from bench.core_speed import _before_round, by_size
from core import builtin_profile
from tests.builders.images import encode, sharp_photo

ROOT = Path(__file__).resolve().parents[2]


def test_a_before_round_imports_core_from_the_given_checkout(tmp_path: Path) -> None:
    """A copy of ``core`` whose default profile says another version is what gets timed."""
    tree = tmp_path / "checkout"
    shutil.copytree(ROOT / "core", tree / "core", ignore=shutil.ignore_patterns("__pycache__"))
    profile = tree / "core" / "profiles" / "default.toml"
    ours = builtin_profile("default").version
    profile.write_text(profile.read_text().replace(f'"{ours}"', '"1999.01.01.1"', 1))
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(encode(sharp_photo(1200, 900)))

    ms, version = _before_round(tree, "default", [photo])

    assert version == "1999.01.01.1"
    assert 0 < ms < 5000


def test_by_size_groups_each_photos_rounds_by_how_it_decodes() -> None:
    """Two rounds of three photos: one decoded whole, one resized, one DCT-scaled."""
    long_sides = [2000, 3999, 4000]  # each on the edge of its class
    floor = [5.0, 17.0, 20.0, 7.0, 19.0, 22.0]
    ours = [15.0, 37.0, 30.0, 13.0, 39.0, 34.0]

    rows = by_size(long_sides, floor, ours, 2000)

    assert rows == [
        ("<= 2000 px: decoded whole", 1, 6.0, 14.0),
        ("2000-4000 px: whole, then resized", 1, 18.0, 38.0),
        (">= 4000 px: DCT-scaled", 1, 21.0, 32.0),
    ]
    assert by_size(long_sides, floor, ours, 0) == []
