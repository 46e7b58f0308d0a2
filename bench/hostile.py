"""Structural fuzzing of the engine: hostile containers, time and peak memory per input class.

Runs every generator of :mod:`bench.hostile_inputs` round after round (a new seed
each round; the first round always completes) for ``--seconds``, each input scored in a child process
(:mod:`bench.isolated`), and prints per input class: cases run, verdicts, worst
time (the smaller of wall and CPU; both are printed for the worst case) and worst
peak RSS above the worker's baseline, with the generator that caused it. Exits 1
if any input broke the bounds (2 s, 300 MB) or got no verdict.

Usage: ``python -m bench.hostile [--seconds N] [--seed S] [--family F ...] [--profile P]``;
``--profile deploy/profiles/default-privacy.toml`` runs the detector too and measures
the redacted copy a consumer makes (2 s, and the copy's own memory budget, 480 MB).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from dataclasses import dataclass, field

from tqdm import tqdm

from bench.hostile_inputs import HostileInput, families, hostile_inputs
from bench.isolated import IsolatedScorer, Measurement
from core.budget import DERIVATIVE_BUDGET_BYTES

MAX_SECONDS = 2.0
MAX_PEAK_MB = 300.0
#: The redacted copy decodes the photo at full size again, within a budget of its own.
MAX_COPY_PEAK_MB = DERIVATIVE_BUDGET_BYTES / 2**20
_VERDICTS = ("accepted", "rejected", "error")


@dataclass
class _ClassStats:
    cases: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    worst_time: tuple[float, str, Measurement | None] = (0.0, "", None)
    worst_peak: tuple[float, str] = (0.0, "")
    worst_copy: tuple[float, float, str] = (0.0, 0.0, "")
    """Time, peak MB and case of the costliest redacted copy (a profile with detection)."""
    breaches: list[str] = field(default_factory=list)

    def add(self, case: HostileInput, seed: int, measured: Measurement) -> None:
        self.cases += 1
        self.outcomes[measured.error_code or measured.verdict] += 1
        label = f"{case.generator} (seed {seed})"
        if measured.time_s >= self.worst_time[0] or measured.time_s != measured.time_s:
            self.worst_time = (measured.time_s, label, measured)
        if measured.peak_mb >= self.worst_peak[0]:
            self.worst_peak = (measured.peak_mb, label)
        if measured.copy_s > self.worst_copy[0]:
            self.worst_copy = (measured.copy_s, measured.copy_peak_mb, label)
        if not within_bounds(measured):
            self.breaches.append(f"{label}: {measured}")


def within_bounds(measured: Measurement) -> bool:
    """A verdict (possibly ``error``), in at most 2 s and 300 MB above baseline; the
    redacted copy, when the profile's detector asks for one, in 2 s and its own budget."""
    return (
        measured.verdict in _VERDICTS
        and measured.time_s <= MAX_SECONDS
        and measured.peak_mb <= MAX_PEAK_MB
        and measured.copy_s <= MAX_SECONDS
        and measured.copy_peak_mb <= MAX_COPY_PEAK_MB
    )


def run(
    seconds: float, seed: int, only: list[str], verbose: bool = False, profile: str = "default"
) -> dict[str, _ClassStats]:
    stats: dict[str, _ClassStats] = {}
    deadline = time.monotonic() + seconds
    total = sum(len(g) for name, g in families().items() if not only or name in only)
    with IsolatedScorer(profile) as scorer, tqdm(desc="hostile inputs", unit="case") as progress:
        round_seed = seed
        while time.monotonic() < deadline:
            for case in hostile_inputs(round_seed, only=only):
                measured = scorer.measure(case.data)
                stats.setdefault(case.family, _ClassStats()).add(case, round_seed, measured)
                progress.update()
                if verbose:
                    print(
                        f"{case.family}/{case.generator} seed {round_seed}: {measured}", flush=True
                    )
                if round_seed > seed and time.monotonic() >= deadline:
                    break
            round_seed += 1
        progress.set_postfix(generators=total, rounds=round_seed - seed)
    return stats


def report(stats: dict[str, _ClassStats], elapsed: float) -> bool:
    print(f"\n{sum(s.cases for s in stats.values())} cases in {elapsed:.0f} s")
    header = (
        f"{'class':<8} {'cases':>6} {'worst time s':>12} {'(wall/cpu)':>12} {'worst peak MB':>14}"
    )
    print(header + "  worst-time case / worst-peak case; outcomes")
    ok = True
    for family, item in stats.items():
        seconds, time_case, measured = item.worst_time
        wall_cpu = f"{measured.wall_s:.2f}/{measured.cpu_s:.2f}" if measured else "-"
        print(
            f"{family:<8} {item.cases:>6} {seconds:>12.2f} {wall_cpu:>12} "
            f"{item.worst_peak[0]:>14.1f}  {time_case} / {item.worst_peak[1]}; "
            + ", ".join(f"{k} {v}" for k, v in item.outcomes.most_common())
        )
        copy_s, copy_mb, copy_case = item.worst_copy
        if copy_case:
            print(f"{'':<8} redacted copy, worst: {copy_s:.2f} s, {copy_mb:.1f} MB ({copy_case})")
        for breach in item.breaches:
            ok = False
            print(f"  OUT OF BOUNDS {breach}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--family", action="append", default=[], choices=sorted(families()))
    parser.add_argument("--verbose", action="store_true", help="print every case's measurement")
    parser.add_argument(
        "--profile",
        default="default",
        help="built-in profile or profile file to score with; one with detection "
        "(deploy/profiles/default-privacy.toml) also makes and measures the redacted copy",
    )
    args = parser.parse_args()
    started = time.monotonic()
    stats = run(args.seconds, args.seed, args.family, args.verbose, args.profile)
    raise SystemExit(0 if report(stats, time.monotonic() - started) else 1)


if __name__ == "__main__":
    main()
