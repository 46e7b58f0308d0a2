"""``civicqc score`` on one photo: wall and CPU time of the whole command, and where it goes.

Run from the repository root::

    python -m bench.cli_start --runs 7 [--before DIR]

Runs ``civicqc score photo.jpg`` (a 12 MP JPEG of ``bench/photos.py``) ``--runs`` times
in fresh processes and prints the median wall time (target <= 0.35 s) and the median
CPU time (user + sys). On a shared machine the wall time measures the machine's load
as much as the command; the CPU time does not, and it bounds the wall time on an idle
core from below. Then, in as many fresh interpreters, the CPU each import of the
command costs, in the order the command pulls them in, so the rest (interpreter
start, reading and scoring the photo, printing) is the difference. ``--before DIR``
runs the command of another checkout too, the two taking turns, for before/after
figures from one run.

Every run reads compiled bytecode, as an installed ``civicqc`` does (pip compiles a
package when it installs it): one untimed run per checkout first fills a private cache
(``PYTHONPYCACHEPREFIX``, so the checkouts stay untouched). Without it, a checkout run
under ``PYTHONDONTWRITEBYTECODE`` (set on the shared machine) compiles every module of
the repository on every start, ~40 ms of CPU that no user pays.
"""

from __future__ import annotations

import argparse
import os
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

#: As ``civicqc.cli`` does for ``score``: one BLAS and one OpenCV thread, no
#: search for pydantic plugins, and no garbage collection while importing.
_PROBE = """
import gc, importlib, os, sys, time
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
os.environ.setdefault("OPENCV_FOR_THREADS_NUM", "1")
gc.disable()
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


def compiled_env(tree: Path, cache: Path) -> dict[str, str]:
    """This environment, running ``tree``'s code with its bytecode cached under ``cache``."""
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONPYCACHEPREFIX=str(cache))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def command_times(
    photo: Path, runs: int, trees: list[Path], cache: Path
) -> list[tuple[list[float], list[float]]]:
    """Wall and CPU seconds of each ``civicqc score photo`` run, per tree, the trees taking turns.

    Each tree's code is run (``PYTHONPATH`` and working folder set to it) with this
    interpreter, so two checkouts compare under the same load; an untimed first run of
    each compiles its bytecode into ``cache``.
    """
    times: list[tuple[list[float], list[float]]] = [([], []) for _ in trees]
    argv = [sys.executable, "-m", "civicqc.cli", "score", str(photo)]
    for tree in trees:
        env = compiled_env(tree, cache)
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env, cwd=tree)
    for _ in range(runs):
        for tree, (walls, cpus) in zip(trees, times, strict=True):
            env = compiled_env(tree, cache)
            cpu, started = _children_cpu_s(), time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env, cwd=tree)
            walls.append(time.perf_counter() - started)
            cpus.append(_children_cpu_s() - cpu)
    return times


def import_costs(runs: int, tree: Path, cache: Path) -> list[float]:
    """Median CPU seconds of each of :data:`IMPORTS` from ``tree``, each run in a fresh interpreter."""
    rows = []
    env = compiled_env(tree, cache)
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, *IMPORTS],
            check=True,
            capture_output=True,
            text=True,
            env=env,
            cwd=tree,
        )
        rows.append([float(x) for x in done.stdout.split()])
    return [statistics.median(column) for column in zip(*rows, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--before",
        type=Path,
        default=None,
        metavar="DIR",
        help="a checkout of another commit whose command takes turns with this one's",
    )
    args = parser.parse_args()
    trees = [Path.cwd()] if args.before is None else [args.before.resolve(), Path.cwd()]
    with tempfile.TemporaryDirectory() as folder:
        photo = Path(folder) / "photo.jpg"
        photo.write_bytes(phone_jpeg("coffee"))
        cache = Path(folder) / "bytecode"
        times = command_times(photo, args.runs, trees, cache)
        costs = import_costs(args.runs, trees[-1], cache)
    for tree, (walls, cpus) in zip(trees, times, strict=True):
        label = f" [{tree}]" if args.before is not None else ""
        print(
            f"civicqc score photo.jpg ({args.runs} runs){label}: wall "
            f"{statistics.median(walls):.2f} s median (min {min(walls):.2f}; target <= 0.35 s), "
            f"CPU {statistics.median(cpus):.2f} s median (min {min(cpus):.2f})"
        )
    if args.before is not None:
        (before_walls, before_cpus), (walls, cpus) = times
        print(
            f"  after / before: wall {statistics.median(walls) / statistics.median(before_walls):.2f}x,"
            f" CPU {statistics.median(cpus) / statistics.median(before_cpus):.2f}x (medians)"
        )
    cpu = statistics.median(times[-1][1])
    for name, cost in zip(IMPORTS, costs, strict=True):
        print(f"  import {name:<24} {cost * 1000:6.1f} ms CPU")
    print(
        f"  {'all imports':<31} {sum(costs) * 1000:6.1f} ms CPU; the rest {cpu - sum(costs):.2f} s"
    )


if __name__ == "__main__":
    main()
