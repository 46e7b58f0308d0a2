"""``bench.core_speed --before``: the other checkout's engine is the one that is timed."""

from __future__ import annotations

import shutil
from pathlib import Path

from bench.core_speed import _before_round
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
