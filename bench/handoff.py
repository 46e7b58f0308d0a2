"""What it costs to hand a photo's bytes to a scoring worker: the pipe against the inbox.

The replica and its worker are two processes. Through a ``multiprocessing`` pipe a
photo is pickled, written 64 KiB at a time while the worker reads it back, then
unpickled; through :class:`consumer.inbox.Inbox` it is copied into a shared file and
only its length crosses the pipe. Both run here on the same photo, in a spawned child
pinned with this process to one core (as ``bench.drain`` pins a replica), and the
bench prints CPU (both processes) and wall time per hand-over.

Usage: ``python -m bench.handoff [--count 200] [--core 1]``
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from multiprocessing.connection import Connection

from bench.photos import phone_jpeg
from consumer.inbox import Inbox, InboxReader

_CONTEXT = multiprocessing.get_context("spawn")


def _child(conn: Connection) -> None:
    """Take hand-overs until told to stop; answer each with the length received, and
    ``"cpu"`` with the CPU seconds used so far."""
    reader = InboxReader()
    while True:
        message = conn.recv()
        if message is None:
            return
        if message == "cpu":
            times = os.times()
            conn.send(times.user + times.system)
        elif isinstance(message, bytes):
            conn.send(len(message))
        else:
            conn.send(len(reader.read(*message)))


def _cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def _measure(data: bytes, count: int, *, inbox: bool) -> tuple[float, float]:
    """CPU ms (both processes, start-up excluded) and wall ms per hand-over."""
    ours, theirs = _CONTEXT.Pipe()
    child = _CONTEXT.Process(target=_child, args=(theirs,), daemon=True)
    child.start()
    box = Inbox(len(data))
    try:
        ours.send((box.path, 0))  # the child maps the inbox: warm on both sides
        ours.recv()
        ours.send("cpu")
        child_cpu, cpu, wall = ours.recv(), _cpu_s(), time.perf_counter()
        for _ in range(count):
            if inbox:
                box.write(data)
                ours.send((box.path, len(data)))
            else:
                ours.send(data)
            ours.recv()
        wall, cpu = time.perf_counter() - wall, _cpu_s() - cpu
        ours.send("cpu")
        child_cpu = ours.recv() - child_cpu
        ours.send(None)
        child.join()
    finally:
        box.close()
    return (cpu + child_cpu) / count * 1000, wall / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--core", type=int, default=1)
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.core})  # the child inherits it
    data = phone_jpeg("astronaut")
    print(f"{len(data) / 1e6:.2f} MB photo, {args.count} hand-overs, one core ({args.core})")
    for name, inbox in (("pipe", False), ("inbox", True), ("pipe", False), ("inbox", True)):
        cpu, wall = _measure(data, args.count, inbox=inbox)
        print(f"{name:5}: {cpu:5.2f} ms CPU (both processes), {wall:5.2f} ms wall per photo")


if __name__ == "__main__":
    main()
