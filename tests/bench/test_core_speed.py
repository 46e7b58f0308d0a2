"""``bench.core_speed``: the other checkout's engine is the one timed; each step runs what it names."""

from __future__ import annotations

import shutil
from pathlib import Path

from bench.core_speed import STEPS, _before_round, by_size, format_costs, step_functions
from core import Verdict, builtin_profile
from core.decode import DecodedImage
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

    rows = by_size(long_sides, {"floor": floor, "ours": ours}, 2000)

    assert rows == [
        ("<= 2000 px: decoded whole", 1, {"floor": 6.0, "ours": 14.0}),
        ("2000-4000 px: whole, then resized", 1, {"floor": 18.0, "ours": 38.0}),
        (">= 4000 px: DCT-scaled", 1, {"floor": 21.0, "ours": 32.0}),
    ]
    assert by_size(long_sides, {"floor": floor, "ours": ours}, 0) == []


def test_each_step_runs_what_it_names_on_a_photo_under_the_profile() -> None:
    """The decode step yields the engine's own analysis images; the last step is its verdict."""
    rules = builtin_profile("default")
    data = encode(sharp_photo(3000, 2000))
    steps = step_functions(rules)

    assert [key for key, _ in STEPS] == ["entropy", "grey", "floor", "decode", "ours"]
    decoded = steps["decode"](data)
    assert isinstance(decoded, DecodedImage)
    assert decoded.grey.shape == (666, 1000)  # the 1000 px analysis scale (half the fine one)
    assert decoded.fine_grey is not None
    assert decoded.fine_grey.shape == (1333, 2000)  # the blur check's 2000 px scale
    assert decoded.channel_clip is not None  # the floor's colour planes are what it reads
    verdict = steps["ours"](data)
    assert isinstance(verdict, Verdict)
    assert verdict.verdict == "accepted"
    assert all(steps[key](data) is None for key in ("entropy", "grey", "floor"))


def test_other_formats_are_set_beside_the_jpegs_of_about_their_size() -> None:
    """A 12 MP HEIF against the 12 MP JPEGs only: a 2 MP JPEG, decoded whole, is cheap
    whatever its format would cost, and would flatter the JPEGs' mean."""
    others = [("heif", 12.0, 500.0), ("heif", 12.2, 560.0), ("png", 40.0, 900.0)]
    jpegs = [(12.0, 60.0), (10.0, 50.0), (2.0, 10.0)]

    rows = format_costs(others, jpegs)

    assert rows == [
        ("heif", 2, 12.1, 530.0, 2, 55.0),  # JPEGs of at least 0.8 x 12.1 = 9.68 MP
        ("png", 1, 40.0, 900.0, 0, 0.0),  # no JPEG of at least 32 MP
    ]
