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
* lookup: median time of :meth:`core.similar.FingerprintIndex.search` in one tenant
  holding ``--size`` (1 million) fingerprints, and the index's memory (columns plus the
  set of known ids, measured with tracemalloc).
* cost: ``core.score`` time per photo and the fingerprint's share of it, measured in the
  same run (the fingerprint alone on the decoded grey image).

Usage: ``python -m bench.near_duplicates [--cache .cache/accuracy] [--size 1000000]``
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
import tracemalloc
import uuid
from collections.abc import Callable
from itertools import islice
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance
from tqdm import tqdm

from bench.accuracy.build_dataset import DEFAULT_CACHE
from bench.accuracy.sources import SOURCES, load_sources
from core import builtin_profile, score
from core.decode import decode_image
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


def lookup(size: int, repeat: int) -> None:
    rng = np.random.default_rng(0)
    prints = rng.integers(0, 2**63, size=size, dtype=np.uint64)
    now = time.time()
    tracemalloc.start()
    index = FingerprintIndex()
    for i, value in enumerate(tqdm(prints, desc="index", unit_scale=True, mininterval=1)):
        index.add(str(uuid.UUID(int=i + 1)), int(value), now - (size - i), None)
    held, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rule = SearchRule()
    queries = [int(v) ^ 0b1011 for v in prints[:: max(1, size // repeat)][:repeat]]
    times = []
    for query in queries:
        started = time.perf_counter()
        found = index.search(query, now, None, rule)
        times.append(time.perf_counter() - started)
        assert found, "a planted near copy must be found"
    print(
        f"lookup at {size:,} fingerprints: median {statistics.median(times) * 1e3:.2f} ms, "
        f"p90 {statistics.quantiles(times, n=10)[-1] * 1e3:.2f} ms (target <= 1 ms)"
    )
    print(
        f"index memory: {held / 2**20:.1f} MiB ({held / size:.0f} bytes a photo; "
        f"columns {index.nbytes / 2**20:.1f} MiB)"
    )


def cost(cache: Path, repeat: int) -> None:
    photos = [_jpeg(Image.fromarray(rgb)) for _s, rgb, _r in islice(load_sources(cache), 8)]
    rules = builtin_profile("default")
    scored, printed = [], []
    for _ in range(repeat):
        for data in photos:
            started = time.perf_counter()
            score(data, rules)
            scored.append(time.perf_counter() - started)
            grey = decode_image(data, max_pixels=100_000_000, analysis_long_side=1000).grey
            started = time.perf_counter()
            fingerprint(grey)
            printed.append(time.perf_counter() - started)
    total, share = statistics.median(scored), statistics.median(printed)
    print(
        f"core.score median {total * 1e3:.1f} ms with the fingerprint, "
        f"fingerprint {share * 1e3:.3f} ms ({share / total:.1%} of scoring; target <= 1 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="accuracy photo cache")
    parser.add_argument("--size", type=int, default=1_000_000, help="fingerprints in the index")
    parser.add_argument("--repeat", type=int, default=50, help="lookups / scoring rounds")
    args = parser.parse_args()
    accuracy(args.cache)
    lookup(args.size, args.repeat)
    cost(args.cache, max(1, args.repeat // 10))


if __name__ == "__main__":
    main()
