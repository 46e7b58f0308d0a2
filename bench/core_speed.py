"""Core scoring speed against its decode floor and the reference pattern, on one core.

Prints, from one run, CPU time per photo (not wall time: the machine is shared):

* floor: decoding each JPEG into what the profile's checks need and nothing more: the
  DCT-scaled draft at the larger of the analysis scale and the blur check's finer scale,
  with its colour planes when the exposure check counts blown colours (grey only
  otherwise). That is mostly Huffman decoding, which nothing can avoid;
* ours: ``core.score`` with the profile (decode, scale, orient, every check);
* reference: the reference system's work pattern (five full decodes, float64);

each photo's floor and ours interleaved so a change of load weighs on both alike, and
the ratios ours / floor (target <= 1.3) and reference / ours; then floor, ours and their
ratio by how the photos decode (:func:`by_size`): whole, whole then resized, DCT-scaled.

Then where each photo's time goes (:data:`STEPS`), timed in the same rounds: the entropy
decoding alone (a 1/8-scale grey draft: every coefficient is still read), grey at the
checks' scale, the colour planes (the floor), ``core.decode_image`` (the resizes to the
checks' scales, orientation, EXIF) and the checks (``core.score``); overall and by size.

Photos: ``--real DIR/PATTERN`` (repeatable) measures real JPEGs of mixed sizes, e.g. the
accuracy set's originals and 12 MP copies (``bench/accuracy/build_dataset.py``)::

    python -m bench.core_speed --real '.cache/accuracy/images/*__00_sharp_original.jpg' \\
        --real '.cache/accuracy/images/*__29_sharp_12mp.jpg'

Without it, synthetic 12 MP phone-like JPEGs (:mod:`bench.photos`). Files of other
formats that ``--real`` matches (an iPhone's HEIC, a PNG) have no floor: only a JPEG
decodes at a reduced scale. Their ``core.score`` is timed in the same rounds and set
beside the JPEGs of about their size or larger (:func:`format_costs`), e.g. with
the two 12 MP iPhone photos of pillow_heif's tests (``pip download pillow_heif==1.8.1
--no-binary :all: --no-deps``, then unpack it)::

    python -m bench.core_speed --real '.cache/accuracy/images/*__29_sharp_12mp.jpg' \\
        --real 'pillow_heif-1.8.1/tests/images/heif_other/arrow.heic' \\
        --real 'pillow_heif-1.8.1/tests/images/heif_other/pug.heic'

``--before DIR`` times ``core.score`` of another checkout on the same photos too (a
``git worktree add --detach DIR REV``; its own profile of the same name), each of its
rounds in a fresh interpreter that imports only that checkout's ``core``, taking turns
with this checkout's rounds, and prints ours / before: the per-photo speed of an
engine change, from one run.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from bench.photos import SOURCES, phone_jpeg
from bench.reference_pipeline import reference_cost
from consumer.worker import limit_decoder_threads
from core import Rules, builtin_profile, score
from core.decode import decode_image
from core.engine import decode_options
from core.formats import ImageFormat, sniff_format
from core.schema import ImageInfo


def _floor(data: bytes, long_side: int, mode: str) -> None:
    """The least decode that yields the checks' pixels: the draft ``decode_image`` asks for."""
    with Image.open(io.BytesIO(data)) as image:
        if long_side:
            scale = max(image.size) / long_side
            size = (int(image.size[0] / scale), int(image.size[1] / scale))
            image.draft(mode, size if scale > 1 else None)
        image.load()


def _draft_side(rules: Rules) -> int:
    """The long side the checks' draft decode asks for: the larger analysis scale; 0 is full size."""
    long_side = rules.analysis_long_side
    if long_side and rules.checks.blur and rules.checks.blur.analysis_long_side:
        long_side = max(long_side, rules.checks.blur.analysis_long_side)
    return long_side


def _floor_of(rules: Rules) -> Callable[[bytes], None]:
    long_side = _draft_side(rules)
    exposure = rules.checks.exposure
    mode = "YCbCr" if exposure and exposure.max_colour_clip is not None else "L"
    return lambda data: _floor(data, long_side, mode)


def _entropy_only(data: bytes) -> None:
    """A 1/8-scale grey draft: libjpeg still reads every coefficient, then barely transforms."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft("L", (math.ceil(image.size[0] / 8), math.ceil(image.size[1] / 8)))
        image.load()


#: Each step of a photo's time, cumulative: (label, what it adds to the step before).
STEPS = (
    ("entropy", "entropy decoding (a 1/8-scale grey draft)"),
    ("grey", "+ grey at the checks' scale"),
    ("floor", "+ colour planes: the floor"),
    ("decode", "+ resizes, orientation, EXIF: core.decode_image"),
    ("ours", "+ the checks: core.score"),
)


def step_functions(rules: Rules) -> dict[str, Callable[[bytes], object]]:
    """What each of :data:`STEPS` runs on one photo's bytes under ``rules``."""
    options = dataclasses.asdict(decode_options(rules))
    draft_side = _draft_side(rules)
    return {
        "entropy": _entropy_only,
        "grey": lambda data: _floor(data, draft_side, "L"),
        "floor": _floor_of(rules),
        "decode": lambda data: decode_image(data, **options),
        "ours": lambda data: score(data, rules),
    }


def by_size(
    long_sides: list[int], series: Mapping[str, list[float]], draft_side: int
) -> list[tuple[str, int, dict[str, float]]]:
    """``(class, photos, {series: mean ms})`` for photos grouped by how they decode.

    Why: the ratio to the floor depends on the photo's size far more than on the engine. A
    JPEG at most the draft side is decoded whole and every check then runs at its full size;
    one under twice the draft side is decoded whole too, then area-resized; only a larger one
    is DCT-scaled while decoding, where the checks cost least next to the Huffman decoding.
    Each series holds one figure per photo per round, photos in ``long_sides`` order.
    """
    if not draft_side:
        return []
    # (name, smallest long side, largest), both included
    classes = (
        (f"<= {draft_side} px: decoded whole", 0, draft_side),
        (
            f"{draft_side}-{2 * draft_side} px: whole, then resized",
            draft_side + 1,
            2 * draft_side - 1,
        ),
        (f">= {2 * draft_side} px: DCT-scaled", 2 * draft_side, sys.maxsize),
    )
    count = len(long_sides)
    rounds = len(next(iter(series.values()), []))
    rows = []
    for name, low, high in classes:
        picked = [i for i in range(rounds) if low <= long_sides[i % count] <= high]
        if picked:
            means = {
                key: statistics.mean(values[i] for i in picked) for key, values in series.items()
            }
            rows.append((name, len({i % count for i in picked}), means))
    return rows


#: A format's photos are set beside the JPEGs of at least this share of their mean size.
_SIZE_SHARE = 0.8


def format_costs(
    others: list[tuple[str, float, float]], jpegs: list[tuple[float, float]]
) -> list[tuple[str, int, float, float, int, float]]:
    """``(format, photos, mean MP, mean ms, JPEGs beside them, their mean ms)`` per format.

    ``others`` holds ``(format, MP, ms)`` and ``jpegs`` ``(MP, ms)``, one per photo. Why
    not against every JPEG: a JPEG's cost falls with its size far faster than its pixel
    count (DCT scaling), so a format is compared with the JPEGs of at least
    :data:`_SIZE_SHARE` of its mean pixel count; none, and the last two are 0.
    """
    rows = []
    for name in sorted({fmt for fmt, _, _ in others}):
        mine = [(mp, ms) for fmt, mp, ms in others if fmt == name]
        size = statistics.mean(mp for mp, _ in mine)
        beside = [ms for mp, ms in jpegs if mp >= _SIZE_SHARE * size]
        rows.append(
            (
                name,
                len(mine),
                size,
                statistics.mean(ms for _, ms in mine),
                len(beside),
                statistics.mean(beside) if beside else 0.0,
            )
        )
    return rows


def _cpu_ms(fn: Callable[[bytes], object], data: bytes) -> float:
    started = time.process_time()
    fn(data)
    return (time.process_time() - started) * 1000


#: One round of ``core.score`` in another checkout: argv is the profile, then the photos.
_BEFORE_ROUND = """
import json, sys, time
from core import builtin_profile, score
rules = builtin_profile(sys.argv[1])
photos = [open(path, "rb").read() for path in sys.argv[2:]]
for data in photos[:3]:
    score(data, rules)
started = time.process_time()
for data in photos:
    score(data, rules)
print(json.dumps({"ms": (time.process_time() - started) * 1000 / len(photos),
                  "version": rules.version}))
"""


def _before_round(tree: Path, profile: str, paths: list[Path]) -> tuple[float, str]:
    """Mean CPU ms per photo of ``core.score`` in ``tree``, and its profile's version."""
    env = {**os.environ, "PYTHONPATH": str(tree), "OPENBLAS_NUM_THREADS": "1"}
    command = [sys.executable, "-c", _BEFORE_ROUND, profile, *map(str, paths)]
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return float(result["ms"]), str(result["version"])


def _long_side(data: bytes) -> int:
    with Image.open(io.BytesIO(data)) as image:
        return max(image.size)


def _megapixels(data: bytes) -> float:
    with Image.open(io.BytesIO(data)) as image:
        return image.size[0] * image.size[1] / 1e6


def _photos(patterns: list[str], count: int) -> tuple[list[bytes], str, list[bytes]]:
    """The JPEGs to time against their floor, what they are, and the other formats' files."""
    if not patterns:
        names = [SOURCES[i % len(SOURCES)] for i in range(count)]
        made = [
            phone_jpeg(name, seed=i)
            for i, name in enumerate(tqdm(names, desc="making 12 MP photos", unit="photo"))
        ]
        return made, "synthetic 4000x3000 JPEG q90", []
    files = sorted(
        {f for pattern in patterns for f in Path(pattern).parent.glob(Path(pattern).name)}
    )
    every = [f.read_bytes() for f in files]
    photos = [p for p in every if sniff_format(p[:32]) is ImageFormat.JPEG]
    others = [p for p in every if sniff_format(p[:32]) not in (None, ImageFormat.JPEG)]
    if not photos:
        raise SystemExit(f"no JPEG matches {patterns}")
    sizes = [_megapixels(data) for data in photos]
    return (
        photos,
        f"real JPEGs, {min(sizes):.1f}-{max(sizes):.1f} MP (median {statistics.median(sizes):.1f})",
        others,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--photos", type=int, default=len(SOURCES), help="synthetic photos")
    parser.add_argument("--real", action="append", default=[], metavar="GLOB")
    parser.add_argument("--profile", default="default")
    parser.add_argument(
        "--before",
        type=Path,
        metavar="DIR",
        help="a checkout of an earlier commit: its core.score on the same photos, in turns",
    )
    args = parser.parse_args()
    # Per-core figures: OpenCV (ours and the reference pattern) and libheif on one thread.
    limit_decoder_threads(1)
    rules = builtin_profile(args.profile)
    photos, kind, others = _photos(args.real, args.photos)
    steps = step_functions(rules)
    for data in photos:  # warm caches and lazy imports
        score(data, rules)
    other_images = [score(data, rules).image for data in others]

    times: dict[str, list[float]] = {key: [] for key, _ in STEPS}
    other_times: list[list[float]] = [[] for _ in others]
    for _ in tqdm(range(args.repeat), desc="floor, its steps and core.score", unit="round"):
        for data in photos:
            for key, _ in STEPS:
                times[key].append(_cpu_ms(steps[key], data))
        for data, series in zip(others, other_times, strict=True):
            series.append(_cpu_ms(steps["ours"], data))
    floor, ours = times["floor"], times["ours"]
    reference = [_cpu_ms(reference_cost, data) for data in tqdm(photos, desc="reference")]

    mean_floor, mean_ours = statistics.mean(floor), statistics.mean(ours)
    mean_reference = statistics.mean(reference)
    mean_mb = statistics.mean(len(p) for p in photos) / 1e6
    print(f"photos: {len(photos)} {kind}, mean {mean_mb:.2f} MB; profile {rules.name}")
    print(f"one core (pid {os.getpid()}), CPU ms per photo, mean of {args.repeat} rounds")
    print(f"floor (the checks' draft decode)   {mean_floor:7.1f} ms")
    print(f"ours  (core.score)                 {mean_ours:7.1f} ms = {1000 / mean_ours:5.1f}/s")
    print(f"reference work pattern             {mean_reference:7.1f} ms")
    print(f"ratio ours / floor                 {mean_ours / mean_floor:7.2f}   (target <= 1.3)")
    print(f"speed-up reference / ours          {mean_reference / mean_ours:7.1f}x")
    long_sides = [_long_side(data) for data in photos]
    classes = by_size(long_sides, times, _draft_side(rules))
    for name, count, means in classes:
        print(
            f"  {name:38} {count:3} photos: floor {means['floor']:6.1f},"
            f" ours {means['ours']:6.1f} ms, ratio {means['ours'] / means['floor']:5.2f}"
        )
    _print_steps([("all photos", len(photos), {k: statistics.mean(v) for k, v in times.items()})])
    if len(classes) > 1:
        _print_steps(classes)
    if others:
        _print_formats(photos, times["ours"], other_images, other_times)
    if args.before is not None:
        _compare_before(args.before.resolve(), args.profile, photos, rules, args.repeat)


def _print_formats(
    photos: list[bytes],
    ours: list[float],
    images: list[ImageInfo | None],
    times: list[list[float]],
) -> None:
    """``core.score`` of the other formats against the JPEGs of about their size or larger."""
    count = len(photos)
    jpegs = [
        (_megapixels(data), statistics.mean(ours[index::count]))
        for index, data in enumerate(photos)
    ]
    others = [
        (image.format if image else "unreadable", image.megapixels if image else 0.0, mean)
        for image, mean in zip(images, map(statistics.mean, times), strict=True)
    ]
    print("other formats, core.score in the same rounds (only a JPEG decodes at a reduced scale):")
    for name, number, size, ms, beside, beside_ms in format_costs(others, jpegs):
        against = (
            f"JPEGs of at least {_SIZE_SHARE * size:.1f} MP ({beside}) {beside_ms:.1f} ms:"
            f" {ms / beside_ms:.1f}x"
            if beside
            else "no JPEG that large"
        )
        print(f"  {name:6} {number:3} photos, {size:5.1f} MP mean: {ms:7.1f} ms; {against}")


def _print_steps(groups: list[tuple[str, int, dict[str, float]]]) -> None:
    """Each step's cumulative mean and what it adds, per group of photos."""
    for name, count, means in groups:
        print(f"where the time goes, {name} ({count} photos): cumulative ms, added ms, share")
        before = 0.0
        for key, label in STEPS:
            added = means[key] - before
            share = added / means["ours"]
            print(f"  {label:48} {means[key]:7.1f} {added:+7.1f} {share:6.0%}")
            before = means[key]


def _compare_before(
    tree: Path, profile: str, photos: list[bytes], rules: Rules, rounds: int
) -> None:
    """Rounds of the other checkout's ``core.score`` and of ours, in turns, on the same files."""
    with tempfile.TemporaryDirectory(prefix="core-speed-") as folder:
        paths = []
        for index, data in enumerate(photos):
            paths.append(Path(folder) / f"{index:04d}.jpg")
            paths[-1].write_bytes(data)
        before: list[float] = []
        ours: list[float] = []
        version = "?"
        for _ in tqdm(range(rounds), desc="before and ours, in turns", unit="round"):
            ms, version = _before_round(tree, profile, paths)
            before.append(ms)
            started = time.process_time()
            for data in photos:
                score(data, rules)
            ours.append((time.process_time() - started) * 1000 / len(photos))
    print(f"before: {tree} ({profile} {version}), ours: {rules.version}; best round of {rounds}")
    print(f"core.score before                  {min(before):7.1f} ms")
    print(f"core.score ours                    {min(ours):7.1f} ms")
    print(f"ratio ours / before                {min(ours) / min(before):7.2f}")


if __name__ == "__main__":
    main()
