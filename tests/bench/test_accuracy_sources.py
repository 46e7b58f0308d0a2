"""The accuracy set's photo list and the Qt resource reader that reaches GCompris's photos.

No package is fetched here: the reader is checked on bundles written in the test, byte
by byte from Qt's documented layout, and the list on its own declarations.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter, defaultdict

import pytest

from bench.accuracy.build_dataset import main as build_main
from bench.accuracy.evaluate import Row, columns_table, holdout_section
from bench.accuracy.qt_resource import read_resource
from bench.accuracy.sources import (
    _ADDED,
    _FIRST,
    _HOLDOUT,
    _HOLDOUT_CLOSE,
    _HOLDOUT_STREET,
    HOLDOUT_ADDED,
    HOLDOUT_BATCHES,
    HOLDOUT_CLOSE_ADDED,
    HOLDOUT_STREET_ADDED,
    SOURCES,
    Source,
    alternate_splits,
    in_splits,
)

RESERVED = ("mate-backgrounds", "lomiri-wallpapers", "digikam-data", "opencv-doc")


def _bundle(files: dict[str, tuple[bytes, bool]], version: int = 3) -> bytes:
    """A ``.rcc`` holding ``/dir/<name>`` for each file, zlib-compressed where asked."""
    names = b""
    name_at: dict[str, int] = {}
    for name in ("dir", *files):
        name_at[name] = len(names)
        encoded = name.encode("utf-16-be")
        names += struct.pack(">HI", len(name), 0) + encoded
    data = b""
    data_at: dict[str, int] = {}
    for name, (content, compress) in files.items():
        stored = struct.pack(">I", len(content)) + zlib.compress(content) if compress else content
        data_at[name] = len(data)
        data += struct.pack(">I", len(stored)) + stored
    stamp = b"" if version == 1 else b"\0" * 8

    def directory(name_off: int, count: int, first: int) -> bytes:
        return struct.pack(">IHII", name_off, 0x02, count, first) + stamp

    nodes = directory(0, 1, 1) + directory(name_at["dir"], len(files), 2)
    for name, (_, compress) in files.items():
        nodes += struct.pack(">IHHHI", name_at[name], int(compress), 0, 0, data_at[name]) + stamp
    header = 20 + (4 if version >= 3 else 0)
    tree, data_off = header, header + len(nodes)
    head = b"qres" + struct.pack(">IIII", version, tree, data_off, data_off + len(data))
    return head + (b"\0" * 4 if version >= 3 else b"") + nodes + data + names


@pytest.mark.parametrize("version", [1, 2, 3])
def test_reads_stored_and_zlib_files_from_a_bundle(version: int) -> None:
    photo, text = bytes(range(256)) * 40, b"credits: someone, CC0-1.0\n" * 50
    bundle = _bundle({"a.webp": (photo, False), "README": (text, True)}, version)
    assert read_resource(bundle, "/dir/a.webp") == photo
    assert read_resource(bundle, ":/dir/README") == text  # Qt's own resource-path form


def test_missing_paths_and_foreign_files_are_refused() -> None:
    bundle = _bundle({"a.webp": (b"x", False)})
    with pytest.raises(KeyError):
        read_resource(bundle, "/dir/b.webp")
    with pytest.raises(KeyError):
        read_resource(bundle, "/dir/a.webp/deeper")
    with pytest.raises(IsADirectoryError):
        read_resource(bundle, "/dir")
    with pytest.raises(ValueError, match="qres"):
        read_resource(b"PK\x03\x04" + bundle[4:], "/dir/a.webp")


def test_second_batch_alternates_tune_and_validate_within_every_hard_kind() -> None:
    added = [s for s in SOURCES if s.name in {a.name for a in _ADDED}]
    assert len(added) == len(_ADDED) >= 20
    by_kind: defaultdict[str, list[Source]] = defaultdict(list)
    for source in added:
        by_kind[source.hard].append(source)
    for kind, group in by_kind.items():
        splits = [s.split for s in sorted(group, key=lambda s: s.name)]
        assert splits == [("tune", "validate")[rank % 2] for rank in range(len(splits))], kind
    second = SOURCES[len(_FIRST) : len(_FIRST) + len(_ADDED)]
    assert alternate_splits(list(reversed(_ADDED))) == tuple(reversed(second))


def test_first_batch_keeps_its_splits() -> None:
    assert SOURCES[: len(_FIRST)] == _FIRST
    assert Counter(s.split for s in _FIRST) == {"tune": 22, "validate": 65}


def test_every_photo_is_named_once_licensed_and_never_from_the_review_set() -> None:
    assert len({s.name for s in SOURCES}) == len(SOURCES)
    assert len({(s.package, s.member) for s in SOURCES}) == len(SOURCES)
    for source in SOURCES:
        assert source.split in ("tune", "validate", "holdout"), source.name
        assert source.licence, source.name
        assert not source.package.startswith(RESERVED), source.name
        if source.origin == "rcc":
            bundle, path = source.member.split(":", 1)
            assert bundle.endswith(".rcc") and path.startswith("/"), source.name


HELD = (*_HOLDOUT, *_HOLDOUT_STREET, *_HOLDOUT_CLOSE)


def test_holdout_photos_come_only_from_packages_no_tuned_or_validated_photo_uses() -> None:
    earlier = {s.package.split("==")[0] for s in SOURCES if s.split != "holdout"}
    assert {s.split for s in HELD} == {"holdout"}
    assert [s for s in SOURCES if s.split == "holdout"] == list(HELD)
    assert not {s.package.split("==")[0] for s in HELD} & earlier


def test_street_batch_comes_from_packages_no_earlier_photo_uses() -> None:
    earlier = {s.package for s in SOURCES if s not in _HOLDOUT_STREET}
    street = {s.package for s in _HOLDOUT_STREET}
    assert len(_HOLDOUT_STREET) >= 10 and len(street) >= 6
    assert not street & earlier
    assert all("@v" in p or p.count(":") == 4 for p in street)  # pinned Go and Maven versions


def test_close_up_batch_comes_from_packages_no_earlier_photo_uses() -> None:
    earlier = {s.package.split("==")[0].lower() for s in SOURCES if s not in _HOLDOUT_CLOSE}
    close = [s.package.split("==")[0].lower() for s in _HOLDOUT_CLOSE]
    assert len(_HOLDOUT_CLOSE) >= 10 and len(set(close)) >= 6
    assert not set(close) & earlier
    assert max(Counter(close).values()) <= 5  # no package dominates the batch
    assert all("==" in s.package or "@" in s.package for s in _HOLDOUT_CLOSE)  # pinned
    assert sum(s.member.endswith(".heic") for s in _HOLDOUT_CLOSE) >= 5  # phones' own format


def test_every_holdout_photo_belongs_to_its_batch_and_batches_come_in_order() -> None:
    assert HOLDOUT_ADDED < HOLDOUT_STREET_ADDED <= HOLDOUT_CLOSE_ADDED
    assert set(HOLDOUT_BATCHES) == {s.name for s in SOURCES if s.split == "holdout"}
    batches = [{HOLDOUT_BATCHES[s.name] for s in group}
               for group in (_HOLDOUT, _HOLDOUT_STREET, _HOLDOUT_CLOSE)]  # fmt: skip
    assert all(len(batch) == 1 for batch in batches)
    first, street, close = (batch.pop() for batch in batches)
    assert (first.added, street.added, close.added) == (
        HOLDOUT_ADDED, HOLDOUT_STREET_ADDED, HOLDOUT_CLOSE_ADDED)  # fmt: skip
    assert len({first.name, street.name, close.name}) == 3  # two came the same day
    assert list(dict.fromkeys(HOLDOUT_BATCHES.values())) == [first, street, close]


def test_in_splits_selects_whole_splits_in_list_order() -> None:
    assert in_splits(["holdout"]) == HELD
    assert in_splits(["tune", "validate"]) == SOURCES[: len(SOURCES) - len(HELD)]
    assert in_splits(["holdout", "tune", "validate"]) == SOURCES
    with pytest.raises(ValueError, match="unknown split"):
        in_splits(["test"])
    with pytest.raises(SystemExit):  # the builder's --splits refuses an unknown split too
        build_main(["--splits", "test"])


def _row(source: str, split: str, label: str, kind: str, decided: str) -> Row:
    item = {"file": f"images/{source}_{kind}.jpg", "source": source, "split": split,
            "kind": kind, "param": "p", "label": label, "hard": ""}  # fmt: skip
    keys = ("failed", "blur.sharpness", "exposure.dark_end", "exposure.bright_end",
            "exposure.highlight_clip_fraction")  # fmt: skip
    return Row(item, {"default": decided, "reference": decided}, dict.fromkeys(keys, "0"), {})


def test_holdout_section_reports_only_holdout_rows_and_says_where_it_is_worse() -> None:
    valid = [_row("a", "validate", "accept", "sharp", "accept"),
             _row("a", "validate", "reject", "blur", "reject")]  # fmt: skip
    held = [_row("h", "holdout", "accept", "sharp", "reject"),
            _row("h", "holdout", "accept", "sharp", "accept"),
            _row("h", "holdout", "reject", "blur", "reject")]  # fmt: skip
    assert holdout_section(valid) == ""
    text = holdout_section([*valid, *held])
    assert "1 photos (3 files)" in text
    assert "**Worse on the holdout**: balanced accuracy 75.0% against 100.0%" in text
    assert "good photos rejected 50.0% against 0.0%" in text
    assert "Better on the holdout" not in text
    table = columns_table("| | validate | holdout |", (valid, held))
    assert "| accept: sharp | 100.0% (1/1)" in table
    assert "| 50.0% (1/2)" in table


def test_holdout_section_shows_the_holdout_before_a_batch_the_batch_alone_and_both() -> None:
    first, street = _HOLDOUT[0].name, _HOLDOUT_STREET[0].name
    valid = [_row("a", "validate", "accept", "sharp", "accept"),
             _row("a", "validate", "reject", "blur", "reject")]  # fmt: skip
    held = [_row(first, "holdout", "accept", "sharp", "accept"),
            _row(first, "holdout", "reject", "blur", "reject"),
            _row(street, "holdout", "accept", "sharp", "reject"),
            _row(street, "holdout", "reject", "blur", "accept")]  # fmt: skip
    text = holdout_section([*valid, *held])
    assert f"## Holdout split (added {HOLDOUT_ADDED} and {HOLDOUT_STREET_ADDED}," in text
    street_batch = HOLDOUT_BATCHES[street]
    label = f"{street_batch.name} batch ({HOLDOUT_STREET_ADDED})"
    head = (f"| `default` | validate | holdout before the {street_batch.name} batch "
            f"| {label} alone | holdout, all |")  # fmt: skip
    assert head in text
    # balanced accuracy: validate 100, first batch 100, street batch 0, both 50
    assert "| balanced accuracy | 100.0% [" in text
    row = next(line for line in text.splitlines() if line.startswith("| balanced accuracy |"))
    assert [cell.split("%")[0] for cell in row.split("|")[2:-1]] == [
        " 100.0", " 100.0", " 0.0", " 50.0"]  # fmt: skip
    assert f"**Worse on the {street_batch.name} batch**: balanced accuracy 0.0% against " \
        "100.0%" in text  # fmt: skip
    assert f"- the {label}, 1 photos: {street_batch.holds}." in text
    assert "its photos come from 2 package(s), and 1 of its 2 from one" in text


def test_each_later_batch_is_compared_with_the_holdout_before_it() -> None:
    first, street, close = _HOLDOUT[0].name, _HOLDOUT_STREET[0].name, _HOLDOUT_CLOSE[0].name
    held = [_row(first, "holdout", "accept", "sharp", "accept"),
            _row(first, "holdout", "reject", "blur", "reject"),
            _row(street, "holdout", "accept", "sharp", "reject"),
            _row(street, "holdout", "reject", "blur", "reject"),
            _row(close, "holdout", "accept", "sharp", "reject"),
            _row(close, "holdout", "reject", "blur", "reject")]  # fmt: skip
    valid = [_row("a", "validate", "accept", "sharp", "accept"),
             _row("a", "validate", "reject", "blur", "reject")]  # fmt: skip
    text = holdout_section([*valid, *held])
    close_batch = HOLDOUT_BATCHES[close]
    assert "It came in 3 batches" in text
    assert f"holdout before the {close_batch.name} batch" in text
    # before the close-up batch: first (right, right) and street (wrong, right) -> BA 75 %;
    # the close-up batch alone: BA 50 %
    assert (f"**Worse on the {close_batch.name} batch**: balanced accuracy 50.0% against "
            "75.0%") in text  # fmt: skip
    row = next(line for line in text.splitlines() if line.startswith("| balanced accuracy |"))
    assert [cell.split("%")[0].strip() for cell in row.split("|")[2:-1]] == [
        "100.0", "100.0", "50.0", "75.0", "50.0", "66.7"]  # fmt: skip
