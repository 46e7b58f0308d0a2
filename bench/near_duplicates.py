"""Near-duplicate detection: accuracy on real photos, lookup time and memory at scale, cost.

Prints, from one run:

* accuracy: for each threshold, the recall on positive pairs and the false-match rate on
  negative pairs, and the largest threshold whose false-match rate is <= 0.5 % (the
  target is >= 95 % recall there). Pairs come from the real photos of the accuracy set
  (``bench/accuracy/sources.py``; the reserved packages are never used). Positives: a
  photo and its copy re-encoded (q75), resized to 50 %, cropped by 10 % (5 % off each
  side), rotated by 3 degrees, brightened (x1.3), with EXIF stripped (re-saved q95
  without it), or sent through a messenger (long side 1280, q70). Negatives: every pair
  of two different photos (street scenes with street scenes, skies with skies among them).
* lookup: median and p99 time of :meth:`core.similar.FingerprintIndex.search` in one
  tenant holding ``--size`` (1 million) fingerprints, all inside the search window,
  against a bare numpy scan timed in the same run, and the index's memory (measured
  with tracemalloc).
* cost: what scoring a photo costs with exact dedupe, the fingerprint and the near lookup
  (in that index) on, against off, and their ratio, in the same run (see :func:`cost`).

Usage: ``python -m bench.near_duplicates [--cache .cache/accuracy] [--size 1000000]
[--skip-accuracy]``
"""

from __future__ import annotations

import argparse
import hashlib
import io
import statistics
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance
from tqdm import tqdm

from bench.accuracy.build_dataset import DEFAULT_CACHE
from bench.accuracy.sources import SOURCES, load_sources
from bench.photos import SOURCES as PHONE_PHOTOS
from bench.photos import phone_jpeg
from consumer.duplicates import ExactDuplicates
from consumer.near import NearDuplicates
from core import builtin_profile, score
from core.decode import decode_image
from core.events import ImageSubmitted, ObjectRef
from core.fingerprint import distance, fingerprint
from core.similar import FingerprintIndex, SearchRule

#: The highest false-match rate a threshold may have.
FALSE_MATCH_BUDGET = 0.005


def _jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _scaled(image: Image.Image, factor: float) -> Image.Image:
    width, height = image.size
    return image.resize(
        (max(1, int(width * factor)), max(1, int(height * factor))), Image.Resampling.LANCZOS
    )


COPIES: dict[str, Callable[[Image.Image], bytes]] = {
    "re-encoded": lambda im: _jpeg(im, 75),
    "resized 50%": lambda im: _jpeg(_scaled(im, 0.5)),
    "cropped 10%": lambda im: _jpeg(
        im.crop((im.width // 20, im.height // 20, im.width * 19 // 20, im.height * 19 // 20))
    ),
    "rotated 3deg": lambda im: _jpeg(im.rotate(3, resample=Image.Resampling.BICUBIC)),
    "brightened": lambda im: _jpeg(ImageEnhance.Brightness(im).enhance(1.3)),
    "EXIF stripped": lambda im: _jpeg(im, 95),
    "messenger": lambda im: _jpeg(_scaled(im, min(1.0, 1280 / max(im.size))), 70),
}


def _print_of(data: bytes) -> int:
    return fingerprint(decode_image(data, max_pixels=100_000_000, analysis_long_side=1000).grey)


def accuracy(cache: Path) -> None:
    originals: list[int] = []
    positives: dict[str, list[int]] = {kind: [] for kind in COPIES}
    for source, rgb, raw in tqdm(load_sources(cache), total=len(SOURCES), desc="photos"):
        image = Image.fromarray(rgb)
        # scipy's raccoon ships as raw pixels: its "original" is a q95 JPEG of them.
        base = _print_of(_jpeg(image, 95) if source.member.endswith(".dat") else raw)
        originals.append(base)
        for kind, copy in COPIES.items():
            positives[kind].append(distance(base, _print_of(copy(image))))
    negatives = np.array(
        [distance(a, b) for i, a in enumerate(originals) for b in originals[i + 1 :]]
    )
    every = np.concatenate([np.array(v) for v in positives.values()])
    print(f"pairs: {every.size} positive, {negatives.size} negative ({len(originals)} photos)")
    print("threshold  recall  false matches")
    for threshold in range(8, 25, 2):
        recall = (every <= threshold).mean()
        false = (negatives <= threshold).mean()
        print(f"{threshold:9d}  {recall:6.1%}  {false:6.2%}")
    widest = max(t for t in range(65) if (negatives <= t).mean() <= FALSE_MATCH_BUDGET)
    print(f"largest threshold with <= 0.5% false matches: {widest}")
    chosen = SearchRule().max_distance
    print(
        f"default threshold {chosen} (SearchRule): recall {(every <= chosen).mean():.1%}, "
        f"false matches {(negatives <= chosen).mean():.2%} (target >= 95% at <= 0.5%)"
    )
    for kind, found in positives.items():
        print(f"  {kind:14s} recall {(np.array(found) <= chosen).mean():6.1%}  max {max(found)}")


def lookup(size: int, repeat: int, index: FingerprintIndex) -> None:
    """Median and p99 lookup at ``size`` fingerprints, all inside the window (the worst
    case: pruning keeps little else), against a bare numpy scan in the same run."""
    rng = np.random.default_rng(0)
    prints = rng.integers(0, 2**63, size=size, dtype=np.uint64)
    copies = rng.integers(1, 2**63, size=size, dtype=np.uint64)  # every photo's copy key
    rule = SearchRule()
    now = time.time()
    spacing = rule.window_s / (size + 1)
    tracemalloc.start()
    for i, value in enumerate(tqdm(prints, desc="index", unit_scale=True, mininterval=1)):
        at = now - (size - i) * spacing
        index.add(str(uuid.UUID(int=i + 1)), int(value), at, None, int(copies[i]))
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    step = max(1, size // repeat)
    queries = [int(v) ^ 0b1011 for v in prints[::step][:repeat]]
    times, cpu, bare, exact, new = [], [], [], [], []
    unseen = rng.integers(1, 2**63, size=len(queries), dtype=np.uint64)  # keys of new photos
    for n, query in enumerate(queries):
        started_cpu = time.thread_time()
        assert index.copy_of(int(copies[n * step])) == str(uuid.UUID(int=n * step + 1))
        exact.append(time.thread_time() - started_cpu)
        started_cpu = time.thread_time()
        index.copy_of(int(unseen[n]))
        new.append(time.thread_time() - started_cpu)
        started, started_cpu = time.perf_counter(), time.thread_time()
        found = index.search(query, now, None, rule)
        times.append(time.perf_counter() - started)
        cpu.append(time.thread_time() - started_cpu)
        assert found and found[0].distance == 3, "a planted near copy must be found"
        started = time.perf_counter()
        np.flatnonzero(np.bitwise_count(prints ^ np.uint64(query)) <= rule.max_distance)
        bare.append(time.perf_counter() - started)
    median, p99 = statistics.median(times), statistics.quantiles(times, n=100)[-1]
    print(
        f"lookup at {size:,} fingerprints ({len(queries)} lookups): median {median * 1e3:.2f} ms, "
        f"p99 {p99 * 1e3:.2f} ms (target <= 1 ms); CPU median "
        f"{statistics.median(cpu) * 1e3:.2f} ms, p99 {statistics.quantiles(cpu, n=100)[-1] * 1e3:.2f}"
        f" ms; bare numpy scan median {statistics.median(bare) * 1e3:.2f} ms "
        f"(index/bare {median / statistics.median(bare):.2f}x)"
    )
    print(
        f"exact-copy lookup at {size:,} (copy_of, every photo keyed), CPU median / p99: "
        f"a copy {statistics.median(exact) * 1e3:.3f} / "
        f"{statistics.quantiles(exact, n=100)[-1] * 1e3:.3f} ms, a new photo "
        f"{statistics.median(new) * 1e3:.3f} / {statistics.quantiles(new, n=100)[-1] * 1e3:.3f} ms"
    )
    print(
        f"index memory: {held / 2**20:.1f} MiB ({held / size:.0f} bytes a photo; columns and "
        f"work buffers {index.nbytes / 2**20:.1f} MiB at capacity {index.capacity:,}); "
        f"at most {peak / 2**20:.1f} MiB ({peak / size:.0f} bytes a photo) while it grew"
    )


def _event(image_id: str, data: bytes) -> ImageSubmitted:
    digest = hashlib.sha256(data).hexdigest()
    ref = ObjectRef(
        bucket="b",
        key=f"photos/{image_id}.jpg",
        size_bytes=len(data),
        sha256=digest,
        content_type="image/jpeg",
        format="jpeg",
    )
    return ImageSubmitted(image_id=image_id, submitted_at=datetime.now(UTC), object=ref)


def _features_s(
    near: NearDuplicates, exact: ExactDuplicates, event: ImageSubmitted, printed: str
) -> tuple[float, float]:
    """The consumer's per-photo work for both features: the exact-copy and near lookups,
    and the rest (fingerprint record with digest and rules, remember, its JSON)."""
    started = time.perf_counter()
    rules = exact.rules_of("default")
    assert rules is not None
    near.first_copy(event.metadata.tenant, rules, event.object.sha256)
    near.matches(event, printed)
    looked_up = time.perf_counter()
    record = near.record(event, printed, rules)
    near.remember(record)
    record.model_dump_json().encode()
    return looked_up - started, time.perf_counter() - looked_up


def cost(repeat: int, near: NearDuplicates) -> None:
    """What scoring costs with exact dedupe, the fingerprint and the near lookup on, against
    off, per photo, in this process: off is ``core.score`` less its fingerprint (timed on
    the same grey image), on adds :func:`_features_s` right after scoring (caches cold, as
    in the consumer). Object-store and Kafka round trips are not counted (printed note)."""
    photos = [phone_jpeg(name) for name in PHONE_PHOTOS]
    rules = builtin_profile("default")
    exact = ExactDuplicates({"default": rules})
    off, printed, lookups, rest = [], [], [], []
    for round_ in range(repeat):
        for n, data in enumerate(photos):
            event = _event(str(uuid.UUID(int=2**100 + round_ * 100 + n)), data)
            started = time.perf_counter()
            verdict = score(data, rules)
            scored = time.perf_counter() - started
            assert verdict.fingerprint is not None
            looked_up, other = _features_s(near, exact, event, verdict.fingerprint)
            lookups.append(looked_up)
            rest.append(other)
            grey = decode_image(data, max_pixels=100_000_000, analysis_long_side=1000).grey
            started = time.perf_counter()
            fingerprint(grey)
            printed.append(time.perf_counter() - started)
            off.append(scored - printed[-1])
    base, share, lookup_s, other_s = (statistics.median(v) for v in (off, printed, lookups, rest))
    on = base + share + lookup_s + other_s
    print(
        f"scoring per photo (median of {len(off)}, 12 MP): off {base * 1e3:.1f} ms; on "
        f"{on * 1e3:.1f} ms (fingerprint {share * 1e3:.2f} ms, exact and near lookups at "
        f"{len(near.index_of('default')):,} {lookup_s * 1e3:.2f} ms, fingerprint record "
        f"{other_s * 1e3:.2f} ms); on/off {on / base:.3f}x"
    )
    print(
        "  not counted: the fingerprint record's Kafka publish (I/O, outside scoring); exact "
        "dedupe makes no object-store request for a new photo while the topic is followed"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="accuracy photo cache")
    parser.add_argument("--size", type=int, default=1_000_000, help="fingerprints in the index")
    parser.add_argument("--lookups", type=int, default=1000, help="lookups timed")
    parser.add_argument("--rounds", type=int, default=5, help="scoring rounds over 4 photos")
    parser.add_argument(
        "--skip-accuracy", action="store_true", help="only the lookup, memory and cost"
    )
    args = parser.parse_args()
    if not args.skip_accuracy:
        accuracy(args.cache)
    near = NearDuplicates(SearchRule(), "images.fingerprints")
    lookup(args.size, args.lookups, near.index_of("default"))
    cost(args.rounds, near)


if __name__ == "__main__":
    main()
