"""How fast one consumer drains a backlog on one core, against ``civicqc score --jobs 1`` there.

The pipeline benchmark shares two cores between the brokers, the API and the
consumers, so it cannot say what the consumer itself costs. This one isolates it:

1. Kafka and the object store start pinned to the other cores (this process too);
2. ``--images`` photos are stored under ``photos/``, as the API stores them, and
   announced on ``images.submitted`` while no consumer runs: a backlog;
3. one consumer replica (``WORKER_PROCESSES=1``) starts pinned to ``--core`` with
   ``taskset``; the time from its 9th verdict to its last gives the drain rate (the
   first ``MAX_IN_FLIGHT`` = 8 are its start-up), and its CPU over the same window,
   split between the replica's own process and its scoring worker, the CPU per image;
4. in the same run, just before and just after the drain, ``civicqc score --jobs 1``'s
   scoring loop runs pinned to the same core over the same photos, as files;

and prints both rates, their ratio (target >= 85%) and the consumer's CPU per image
against the CLI's (target <= 1.15x). ``--runs`` repeats 3-4 on a fresh backlog.
Each side also prints how long its threads waited, runnable, for the core (``schedstat``,
summed over threads: the consumer's replica threads and worker also wait for each other),
which the rates suffer from and the CPU times don't.
``--before DIR`` drains a backlog with the consumer of another checkout too, in the
same runs, taking turns with this one: before/after figures from one run.

Usage: ``python -m bench.drain [--images 80] [--runs 2] [--core 1] [--before DIR]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer

from bench.photos import SOURCES, phone_jpeg
from bench.pipeline import VerdictClock
from bench.stack_cpu import group_cpu_s
from civicqc.stack import kafka, object_store
from civicqc.stack.context import DEFAULT_BUCKET, free_port
from civicqc.stack.local_stack import LocalStack
from core.events import ImageSubmitted, ObjectRef
from runtime.ids import issued_at, new_image_id
from runtime.layout import incoming_key

_CLI_MODE = "--cli-loop"


#: Verdicts left out of a drain's window, and the replica's in-flight bound.
_SETTLE = 8


@dataclass(frozen=True)
class Rate:
    images_per_s: float
    cpu_ms_per_image: float
    queued_ms_per_image: float
    """Time runnable but waiting for the core (others' work on it), per image."""


@dataclass(frozen=True)
class Drained:
    rate: Rate
    replica_ms_per_image: float
    """CPU of the replica's own process (loop, S3, Kafka, JSON)."""
    workers_ms_per_image: float
    """CPU of its scoring process."""


async def preload(env: dict[str, str], photos: list[bytes], count: int) -> list[str]:
    """Store ``count`` submissions and announce them, as the API would; their image ids."""
    store = object_store.client(env["S3_ENDPOINT"], _credentials(env))
    producer = AIOKafkaProducer(
        bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"], acks="all", enable_idempotence=True
    )
    await producer.start()
    ids = []
    try:
        for i in range(count):
            data = photos[i % len(photos)]
            image_id = new_image_id()
            key = incoming_key(image_id, "jpg")
            store.put_object(DEFAULT_BUCKET, key, io.BytesIO(data), len(data), "image/jpeg")
            submitted_at = issued_at(image_id)
            assert submitted_at is not None
            event = ImageSubmitted(
                image_id=str(image_id),
                submitted_at=submitted_at,
                object=ObjectRef(
                    bucket=DEFAULT_BUCKET,
                    key=key,
                    size_bytes=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    content_type="image/jpeg",
                    format="jpeg",
                ),
            )
            await producer.send_and_wait(
                "images.submitted", event.model_dump_json().encode(), key=str(image_id).encode()
            )
            ids.append(str(image_id))
    finally:
        await producer.stop()
    return ids


def _credentials(env: dict[str, str]) -> object_store.S3Credentials:
    return object_store.S3Credentials(
        access_key=env["S3_ACCESS_KEY"], secret_key=env["S3_SECRET_KEY"]
    )


async def drain(
    env: dict[str, str],
    ids: list[str],
    core: int,
    log: Path,
    timeout_s: float,
    tree: Path | None = None,
) -> Drained:
    """Start one pinned consumer on the backlog ``ids``; its steady-state rate and CPU.

    The window opens at verdict ``_SETTLE + 1``, not the first: the replica fetches
    ``MAX_IN_FLIGHT`` events at once and may score several of them before its first
    verdict lands (the producer's first metadata request), and that work would
    otherwise count as free. ``tree``: run the ``consumer`` package of that checkout.
    """
    code = {} if tree is None else {"PYTHONPATH": str(tree)}
    clock = VerdictClock(env["KAFKA_BOOTSTRAP_SERVERS"], "images.verdicts")
    await clock.start()
    with log.open("ab") as log_file:
        consumer = await asyncio.create_subprocess_exec(
            *("taskset", "-c", str(core), sys.executable, "-m", "consumer"),
            env={
                **os.environ,
                **env,
                "WORKER_PROCESSES": "1",
                "MAX_IN_FLIGHT": str(_SETTLE),
                # The backlog may repeat photos: measure scoring, not reuse.
                "DEDUPE_EXACT": "false",
                "METRICS_PORT": str(free_port()),
                "LOG_LEVEL": "WARNING",
                **code,
            },
            cwd=tree,
            start_new_session=True,  # its own process group, so its CPU can be read
            stdout=log_file,
            stderr=log_file,
        )
    try:
        waits = asyncio.as_completed([clock.verdict_at(i, timeout_s) for i in ids])
        for arrived, verdict in enumerate(waits, start=1):
            await verdict
            if arrived == _SETTLE + 1:
                cpu_first = _cpu_split(consumer.pid)
        cpu_last = _cpu_split(consumer.pid)
    finally:
        await clock.stop()
        os.killpg(consumer.pid, signal.SIGTERM)
        await asyncio.wait_for(consumer.wait(), 60)
    seen = sorted(clock.arrived[i] for i in ids)[_SETTLE:]
    images = len(seen) - 1
    replica, workers, queued = (
        (last - first) / images * 1000 for first, last in zip(cpu_first, cpu_last, strict=True)
    )
    rate = Rate(images / (seen[-1] - seen[0]), replica + workers, queued)
    return Drained(rate, replica, workers)


def _cpu_split(leader: int) -> tuple[float, float, float]:
    """CPU seconds so far of the replica's own process and of the rest of its group, and
    the seconds the group's threads waited for the core while runnable."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{leader}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / ticks
    members = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _group_of(p) == leader]
    return own, group_cpu_s(leader) - own, sum(_queued_s(p) for p in members)


def _group_of(process: Path) -> int | None:
    try:
        return int((process / "stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()[2])
    except (OSError, ValueError, IndexError):
        return None


def _queued_s(process: Path) -> float:
    """Seconds the threads of ``process`` spent runnable but waiting for a core (schedstat)."""
    total = 0
    for task in process.glob("task/*/schedstat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int(task.read_text(encoding="ascii").split()[1])
    return total / 1e9


def cli_rate(folder: Path, core: int) -> Rate:
    """``civicqc score --jobs 1``'s loop on ``core`` over the files of ``folder``."""
    done = subprocess.run(
        ["taskset", "-c", str(core), sys.executable, "-m", "bench.drain", _CLI_MODE, str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return Rate(**figures)


def _cli_loop(folder: Path) -> None:
    """Runs in the pinned child: time ``score_files(..., jobs=1)`` once warm."""
    from civicqc.commands.score import score_files
    from core import builtin_profile

    files = sorted(folder.iterdir())
    rules = builtin_profile("default")
    list(score_files(files[:2], rules, jobs=1))  # imports, page cache
    me = Path(f"/proc/{os.getpid()}")
    cpu, wall, queued = time.process_time(), time.perf_counter(), _queued_s(me)
    count = sum(1 for _ in score_files(files, rules, jobs=1))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    figures = {
        "images_per_s": count / wall,
        "cpu_ms_per_image": cpu / count * 1000,
        "queued_ms_per_image": (_queued_s(me) - queued) / count * 1000,
    }
    print(json.dumps(figures))


def _stack(root: Path) -> LocalStack:
    return LocalStack(
        root,
        services=[kafka.service(), object_store.service()],
        default_ports=False,
        die_with_parent=True,
    )


async def _runs(args: argparse.Namespace, env: dict[str, str], photos: list[bytes]) -> None:
    with tempfile.TemporaryDirectory(prefix="civicqc-drain-files-") as folder:
        for i in range(args.images):
            (Path(folder) / f"{i:04d}.jpg").write_bytes(photos[i % len(photos)])
        log = Path(tempfile.gettempdir()) / f"civicqc-drain-consumer-{os.getpid()}.log"
        # A first, short drain creates the group's offsets and warms the brokers up.
        await drain(env, await preload(env, photos, _SETTLE + 2), args.core, log, args.timeout_s)
        consumers: list[tuple[str, Path | None]] = [("this tree", None)]
        if args.before is not None:
            consumers.insert(0, (f"before ({args.before})", args.before))
        for run in range(1, args.runs + 1):
            # The CLI runs before and after the drains, and the consumers take turns
            # going first, so a change in the machine's load weighs on all sides alike.
            cli_before = cli_rate(Path(folder), args.core)
            drained = {}
            for name, tree in consumers if run % 2 else consumers[::-1]:
                ids = await preload(env, photos, args.images)
                drained[name] = await drain(env, ids, args.core, log, args.timeout_s, tree)
            cli_after = cli_rate(Path(folder), args.core)
            cli = Rate(
                (cli_before.images_per_s + cli_after.images_per_s) / 2,
                (cli_before.cpu_ms_per_image + cli_after.cpu_ms_per_image) / 2,
                (cli_before.queued_ms_per_image + cli_after.queued_ms_per_image) / 2,
            )
            print(f"run {run}: civicqc score --jobs 1 on core {args.core}: {_figures(cli)}")
            for name, _tree in consumers:
                print(f"  consumer, {name}: {_compared(drained[name], cli)}", flush=True)


def _figures(rate: Rate) -> str:
    return (
        f"{rate.images_per_s:.2f} images/s, {rate.cpu_ms_per_image:.1f} ms CPU per image, "
        f"{rate.queued_ms_per_image:.1f} ms runnable but waiting for the core (all threads)"
    )


def _compared(drained: Drained, cli: Rate) -> str:
    rate = drained.rate
    return (
        f"{_figures(rate)} (replica {drained.replica_ms_per_image:.1f} ms + scoring worker "
        f"{drained.workers_ms_per_image:.1f} ms); rate {rate.images_per_s / cli.images_per_s:.0%} "
        f"of the CLI's (target >= 85%), CPU {rate.cpu_ms_per_image / cli.cpu_ms_per_image:.2f}x "
        "the CLI's (target <= 1.15)"
    )


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == _CLI_MODE:
        _cli_loop(Path(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=int, default=80, help="backlog size per run")
    parser.add_argument("--photos", type=int, default=8, help="distinct 12 MP photos")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--core", type=int, default=1, help="the consumer's and the CLI's core")
    parser.add_argument("--timeout-s", type=float, default=600.0, help="bound of one drain")
    parser.add_argument(
        "--before",
        type=Path,
        help="a checkout of an earlier commit (git worktree add --detach DIR REV): its "
        "consumer drains a backlog of its own in the same runs, for before/after figures",
    )
    args = parser.parse_args()
    if args.images < 2 * _SETTLE:
        parser.error(f"--images must be at least {2 * _SETTLE}")
    others = set(os.sched_getaffinity(0)) - {args.core}
    if not others:
        raise SystemExit("needs at least two cores: one for the consumer, one for the rest")
    os.sched_setaffinity(0, others)  # Kafka and the store inherit it
    print(f"making {args.photos} 12 MP JPEGs ...", flush=True)
    photos = [phone_jpeg(SOURCES[i % len(SOURCES)], seed=i) for i in range(args.photos)]
    print(f"consumer and CLI on core {args.core}; Kafka, object store, bench on {sorted(others)}")
    with tempfile.TemporaryDirectory(prefix="civicqc-drain-") as root:
        stack = _stack(Path(root))
        try:
            stack.up(lambda _msg: None)
            asyncio.run(_runs(args, stack.env(), photos))
        finally:
            stack.down(lambda _msg: None)
    print(f"at {datetime.now(UTC):%H:%M} UTC, {os.cpu_count()} cores shared with other work")


if __name__ == "__main__":
    main()
