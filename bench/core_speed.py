"""Core scoring speed on 12 MP phone-like JPEGs, against its floor and the reference pattern.

Prints, from one run on one core:

* floor: decoding the same JPEG the way the engine does (DCT-scaled grey at the
  analysis scale), which is mostly Huffman decoding and can't be avoided;
* ours: ``core.score`` with the default profile (decode + all checks);
* reference: the reference system's work pattern (five full decodes, float64);

and the ratios ours / floor (target <= 1.5) and reference / ours (target > 15).

Usage: ``python -m bench.core_speed [--repeat N] [--photos N]``
"""

from __future__ import annotations

import io
import os
import statistics
import time
from collections.abc import Callable

import cv2
from PIL import Image
from tqdm import tqdm

from bench.photos import SOURCES, phone_jpeg, photo_bench_args
from bench.reference_pipeline import reference_cost
from core import builtin_profile, score


def _floor(data: bytes, long_side: int) -> None:
    with Image.open(io.BytesIO(data)) as image:
        scale = max(image.size) / long_side
        image.draft("L", (int(image.size[0] / scale), int(image.size[1] / scale)))
        image.load()


def _median_ms(fn: Callable[[bytes], object], photos: list[bytes], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        for data in photos:
            started = time.perf_counter()
            fn(data)
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    args = photo_bench_args(__doc__)
    # Per-core figures: keep OpenCV (ours and the reference pattern) on one thread.
    cv2.setNumThreads(1)
    rules = builtin_profile("default")
    names = SOURCES[: args.photos]
    photos = [
        phone_jpeg(name, seed=i)
        for i, name in enumerate(tqdm(names, desc="making 12 MP photos", unit="photo"))
    ]
    megapixels = 12.0
    mean_mb = statistics.mean(len(p) for p in photos) / 1e6
    for data in photos:  # warm caches and lazy imports
        score(data, rules)

    floor = _median_ms(lambda d: _floor(d, rules.analysis_long_side), photos, args.repeat)
    ours = _median_ms(lambda d: score(d, rules), photos, args.repeat)
    reference = _median_ms(reference_cost, photos, max(1, args.repeat // 2))

    print(
        f"photos: {len(photos)} x 4000x3000 JPEG q90, mean {mean_mb:.2f} MB; one core (pid {os.getpid()})"
    )
    print(f"floor (DCT-scaled grey decode)  {floor:7.1f} ms/image")
    print(
        f"ours  (core.score, default)     {ours:7.1f} ms/image  = {1000 / ours:5.1f} images/s/core  = {ours / megapixels:5.2f} ms/MP"
    )
    print(f"reference work pattern          {reference:7.1f} ms/image")
    print(f"ratio ours / floor              {ours / floor:7.2f}   (target <= 1.5)")
    print(f"speed-up reference / ours       {reference / ours:7.1f}x  (target > 15x)")


if __name__ == "__main__":
    main()
