"""``civicqc score`` on one photo: wall and CPU time of the whole command, and where it goes.

Run from the repository root::

    python -m bench.cli_start --runs 7

Runs ``civicqc score photo.jpg`` (a 12 MP JPEG of ``bench/photos.py``) ``--runs`` times
in fresh processes and prints the median wall time (target <= 0.35 s) and the median
CPU time (user + sys). On a shared machine the wall time measures the machine's load
as much as the command; the CPU time does not, and it bounds the wall time on an idle
core from below. Then, in as many fresh interpreters, the CPU each import of the
command costs, in the order the command pulls them in, so the rest (interpreter
start, reading and scoring the photo, printing) is the difference.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.photos import phone_jpeg

#: What ``civicqc score`` imports, heaviest first as the engine pulls them in; each
#: line's cost excludes what the lines above it already imported.
IMPORTS = (
    "numpy",
    "PIL.Image",
    "cv2",
    "pydantic",
    "core",
    "runtime.rulebook",
    "runtime.advice",
    "civicqc.commands.score",
)

#: As ``civicqc.cli`` does for ``score``, one BLAS thread (numpy starts one per core).
_PROBE = """
import importlib, os, sys, time
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
costs = []
for name in sys.argv[1:]:
    started = time.process_time()
    importlib.import_module(name)
    costs.append(time.process_time() - started)
print(" ".join(f"{c:.6f}" for c in costs))
"""


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def command_times(photo: Path, runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each ``civicqc score photo`` run."""
    walls, cpus = [], []
    argv = [sys.executable, "-m", "civicqc.cli", "score", str(photo)]
    for _ in range(runs):
        cpu, started = _children_cpu_s(), time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - started)
        cpus.append(_children_cpu_s() - cpu)
    return walls, cpus


def import_costs(runs: int) -> list[float]:
    """Median CPU seconds of each of :data:`IMPORTS`, each run in a fresh interpreter."""
    rows = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, *IMPORTS], check=True, capture_output=True, text=True
        )
        rows.append([float(x) for x in done.stdout.split()])
    return [statistics.median(column) for column in zip(*rows, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        photo = Path(folder) / "photo.jpg"
        photo.write_bytes(phone_jpeg("coffee"))
        walls, cpus = command_times(photo, args.runs)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    print(
        f"civicqc score photo.jpg ({args.runs} runs): wall {wall:.2f} s median "
        f"(min {min(walls):.2f}; target <= 0.35 s), CPU {cpu:.2f} s median (min {min(cpus):.2f})"
    )
    costs = import_costs(args.runs)
    for name, cost in zip(IMPORTS, costs, strict=True):
        print(f"  import {name:<24} {cost * 1000:6.1f} ms CPU")
    print(
        f"  {'all imports':<31} {sum(costs) * 1000:6.1f} ms CPU; the rest {cpu - sum(costs):.2f} s"
    )


if __name__ == "__main__":
    main()
