"""CPU seconds used by each component of a local stack, read from ``/proc``.

``civicqc stack up`` starts every service as the leader of its own process group
and records its pid in ``run/{service}.pid``, so summing the process group's
``utime + stime`` counts a service with all its children (the consumer's scoring
processes, the JVM's threads). Only live processes are counted: the scoring pool is
long-lived, so nothing that does work during a run exits before it is read.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

#: Report order; each service of the stack belongs to one (Prometheus to none).
COMPONENTS = ("api", "consumer", "kafka", "object store")


def component_of(service: str) -> str | None:
    """``consumer-2`` -> ``consumer``; ``object_store`` -> ``object store``."""
    if service.startswith("consumer"):
        return "consumer"
    if service == "object_store":
        return "object store"
    return service if service in COMPONENTS else None


def _cpu_by_group() -> dict[int, float]:
    """CPU seconds of every live process, summed by process group id."""
    ticks = os.sysconf("SC_CLK_TCK")
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError):
            fields = (entry / "stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
            group = int(fields[2])  # field 5: process group id
            used[group] = used.get(group, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return used


def group_cpu_s(leader: int) -> float:
    """CPU seconds used so far by the live processes of ``leader``'s process group."""
    return _cpu_by_group().get(leader, 0.0)


def service_cpu_s(stack_root: Path) -> dict[str, float]:
    """CPU seconds used so far by each service's process group of the stack at ``stack_root``."""
    leaders: dict[int, str] = {}
    for pid_file in (stack_root / "run").glob("*.pid"):
        with contextlib.suppress(OSError, ValueError, KeyError):
            leaders[int(json.loads(pid_file.read_text(encoding="utf-8"))["pid"])] = pid_file.stem
    by_group = _cpu_by_group()
    return {name: by_group.get(leader, 0.0) for leader, name in leaders.items()}


def component_cpu_s(stack_root: Path) -> dict[str, float]:
    """:func:`service_cpu_s` summed by component (replicas together)."""
    totals = dict.fromkeys(COMPONENTS, 0.0)
    for service, seconds in service_cpu_s(stack_root).items():
        component = component_of(service)
        if component is not None:
            totals[component] += seconds
    return totals


def per_image_ms(
    before: dict[str, float], after: dict[str, float], images: int
) -> dict[str, float]:
    """CPU ms per image of each component between two readings, plus ``total``."""
    shares = {name: (after[name] - before.get(name, 0.0)) / images * 1000 for name in after}
    shares["total"] = sum(shares.values())
    return shares


#: Thread names (``/proc/.../comm``, 15 characters) of the JVM's JIT compilers.
_JIT_THREADS = ("C1 CompilerThre", "C2 CompilerThre")


def jit_cpu_s(stack_root: Path, service: str = "kafka") -> float:
    """CPU seconds the JIT compiler threads of ``service``'s JVM have used so far.

    A freshly started broker compiles its hot paths for minutes; a long-running one
    compiled them long ago. Benches read this around a run to tell that warm-up from
    the broker's CPU per image.
    """
    with contextlib.suppress(OSError, ValueError, KeyError):
        pid_file = stack_root / "run" / f"{service}.pid"
        pid = int(json.loads(pid_file.read_text(encoding="utf-8"))["pid"])
        ticks = os.sysconf("SC_CLK_TCK")
        used = 0.0
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError):
                stat = (task / "stat").read_text(encoding="utf-8")
                name = stat[stat.index("(") + 1 : stat.rindex(")")]
                if name.startswith(_JIT_THREADS):
                    fields = stat.rsplit(")", 1)[1].split()
                    used += (int(fields[11]) + int(fields[12])) / ticks
        return used
    return 0.0
