"""What a shadow profile costs a scoring worker, measured against scoring without one.

Per 12 MP phone-like JPEG, on one core, in one run (the variants interleaved photo by
photo, so the machine's noise falls on all of them alike):

* live: ``core.score`` with the default profile, as without a shadow;
* shadow: ``core.score_pair`` with the default profile and a candidate that moves one
  threshold (the usual trial), one decode shared by both;
* twice: two separate ``core.score`` calls, what scoring the candidate without sharing
  the decode would cost.

Prints the medians and the ratios shadow / live and twice / live. The worker runs
``score_pair`` only for sampled photos, so a replica's scoring cost grows by
``SHADOW_SAMPLE_RATE * (shadow / live - 1)``.

Usage: ``python -m bench.shadow_cost [--repeat N] [--photos N]``
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable

from tqdm import tqdm

from bench.photos import SOURCES, phone_jpeg, photo_bench_args
from consumer.worker import limit_decoder_threads
from core import Rules, builtin_profile, score, score_pair


def _candidate(live: Rules) -> Rules:
    """The live profile with a stricter blur threshold: same decode, other decisions."""
    blur = live.checks.blur
    stricter = blur.model_copy(update={"threshold": blur.threshold + 4.0})
    checks = live.checks.model_copy(update={"blur": stricter})
    return live.model_copy(update={"name": f"{live.name}-next", "checks": checks})


def _ms(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    args = photo_bench_args(__doc__)
    limit_decoder_threads(1)  # per-core figures, as a worker process scores
    live = builtin_profile("default")
    candidate = _candidate(live)
    photos = [phone_jpeg(name) for name in SOURCES[: args.photos]]
    variants: dict[str, Callable[[bytes], object]] = {
        "live": lambda data: score(data, live),
        "shadow": lambda data: score_pair(data, live, candidate),
        "twice": lambda data: (score(data, live), score(data, candidate)),
    }
    for fn in variants.values():  # warm-up: imports, caches
        fn(photos[0])
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in tqdm(range(args.repeat), desc="rounds"):
        for data in photos:
            for name, fn in variants.items():
                samples[name].append(_ms(functools.partial(fn, data)))
    median = {name: statistics.median(values) for name, values in samples.items()}
    print(f"{len(photos)} photos x {args.repeat} rounds, 12 MP JPEG, one core; median ms per photo")
    for name, value in median.items():
        print(f"  {name:<7} {value:8.1f} ms")
    print(f"shadow / live: {median['shadow'] / median['live']:.2f}")
    print(f"twice / live:  {median['twice'] / median['live']:.2f}")


if __name__ == "__main__":
    main()
