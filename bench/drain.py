"""How fast one consumer drains a backlog on one core, against ``civicqc score --jobs 1`` there.

The pipeline benchmark shares two cores between the brokers, the API and the
consumers, so it cannot say what the consumer itself costs. This one isolates it:

1. Kafka and the object store start pinned to the other cores (this process too);
2. the consumer's group is left caught up, as replicas that kept up and then stopped
   leave it (offsets and horizon at the log's end, :mod:`consumer.horizon`), then
   ``--images`` photos are stored under ``photos/``, as the API stores them, and
   announced on ``images.submitted`` while no consumer runs: a backlog. Each is a
   distinct copy of one of ``--photos`` (:func:`bench.pipeline.distinct_copy`), so the
   consumer runs with its deployed settings, exact duplicates on;
3. one consumer replica (``WORKER_PROCESSES=1``) starts pinned to ``--core`` with
   ``taskset``; the time from its 9th verdict to its last gives the drain rate (the
   first ``MAX_IN_FLIGHT`` = 8 are its start-up), and its CPU over the same window,
   split between the replica's own process (and the kernel's part of it) and its
   scoring worker, the CPU per image;
4. in the same run, just before and just after the drain, ``civicqc score --jobs 1``'s
   scoring loop runs pinned to the same core over the same photos, as files, and then
   ``core.score`` alone over the same bytes in memory;

and prints both rates, their ratio (target >= 85%) and the consumer's CPU per image
against the CLI's and ``core.score``'s (target <= 1.15x). ``--runs`` repeats 2-4 on a
fresh backlog. Each side also prints how long its threads waited, runnable, for the
core (``schedstat``, summed over threads: the consumer's replica threads and worker
also wait for each other), which the rates suffer from and the CPU times don't, and how
long the core sat idle (work waiting on I/O instead of on the core).
``--before DIR`` drains a backlog with the consumer of another checkout too (in a group
of its own), in the same runs, taking turns with this one: before/after figures from
one run. ``--profile FILE`` samples this tree's replica and worker with py-spy during
run 1's drain.

Usage: ``python -m bench.drain [--images 80] [--runs 2] [--core 1] [--before DIR]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import io
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import astuple, dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from bench.photos import SOURCES, phone_jpeg
from bench.pipeline import VerdictClock, distinct_copy
from bench.stack_cpu import group_cpu_s
from civicqc.stack import kafka, object_store
from civicqc.stack.context import DEFAULT_BUCKET, free_port
from civicqc.stack.local_stack import LocalStack
from consumer import horizon
from core.events import ImageSubmitted, ObjectRef
from runtime.ids import issued_at, new_image_id
from runtime.layout import incoming_key
from runtime.object_store import DIGEST_METADATA

_CLI_MODE = "--cli-loop"


#: The sampler ``--profile`` runs: the one installed next to this interpreter.
_PY_SPY = Path(sys.executable).with_name("py-spy")

#: Verdicts left out of a drain's window, and the replica's in-flight bound.
_SETTLE = 8


@dataclass(frozen=True)
class Rate:
    images_per_s: float
    cpu_ms_per_image: float
    queued_ms_per_image: float
    """Time runnable but waiting for the core (others' work on it), per image."""
    idle_ms_per_image: float
    """Time the core ran nothing at all, per image: work waiting on I/O, not on the core."""


@dataclass(frozen=True)
class Drained:
    rate: Rate
    replica_ms_per_image: float
    """CPU of the replica's own process (loop, S3, Kafka, JSON)."""
    replica_kernel_ms_per_image: float
    """The part of it spent in the kernel (syscalls, context switches)."""
    workers_ms_per_image: float
    """CPU of its scoring process."""


#: Serial numbers of the distinct copies, never reused in a process (warm-up, runs).
_SERIALS = itertools.count()


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
            # Distinct bytes, the same pixels: the consumer runs as deployed, exact-duplicate
            # records included, and never answers a repeat from its record.
            data = distinct_copy(photos[i % len(photos)], next(_SERIALS))
            image_id = new_image_id()
            key = incoming_key(image_id, "jpg")
            digest = hashlib.sha256(data).hexdigest()
            # With the digest the API keeps with each photo (the consumer checks events by it).
            store.put_object(
                DEFAULT_BUCKET,
                key,
                io.BytesIO(data),
                len(data),
                "image/jpeg",
                metadata={DIGEST_METADATA: digest},
            )
            submitted_at = issued_at(image_id)
            assert submitted_at is not None
            event = ImageSubmitted(
                image_id=str(image_id),
                submitted_at=submitted_at,
                object=ObjectRef(
                    bucket=DEFAULT_BUCKET,
                    key=key,
                    size_bytes=len(data),
                    sha256=digest,
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


async def caught_up(env: dict[str, str], group: str) -> None:
    """Commit ``group``'s offsets at the end of ``images.submitted``, as replicas that kept
    up and then stopped leave them (with their horizon, :mod:`consumer.horizon`: nobody
    started an event past it): the backlog preloaded next is then new to the group, and
    each consumer tree drains its own in a group of its own."""
    member = AIOKafkaConsumer(
        bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"], group_id=group, enable_auto_commit=False
    )
    await member.start()
    try:
        await member._client.force_metadata_update()
        partitions = member.partitions_for_topic("images.submitted") or set()
        tps = [TopicPartition("images.submitted", p) for p in sorted(partitions)]
        member.assign(tps)
        ends = await member.end_offsets(tps)
        await member.commit({tp: (end, horizon.encode(end)) for tp, end in ends.items()})
    finally:
        await member.stop()


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
    profile: Path | None = None,
) -> Drained:
    """Start one pinned consumer on the backlog ``ids``; its steady-state rate and CPU.

    The window opens at verdict ``_SETTLE + 1``, not the first: the replica fetches
    ``MAX_IN_FLIGHT`` events at once and may score several of them before its first
    verdict lands (the producer's first metadata request), and that work would
    otherwise count as free. ``tree``: run the ``consumer`` package of that checkout.
    ``profile``: sample the replica and its worker with py-spy over the window, into
    that file (collapsed stacks, one line per stack).
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
                "METRICS_PORT": str(free_port()),
                "LOG_LEVEL": "WARNING",
                **code,
            },
            cwd=tree,
            start_new_session=True,  # its own process group, so its CPU can be read
            stdout=log_file,
            stderr=log_file,
        )
    sampler = None
    try:
        waits = asyncio.as_completed([clock.verdict_at(i, timeout_s) for i in ids])
        for arrived, verdict in enumerate(waits, start=1):
            await verdict
            if arrived == _SETTLE + 1:
                cpu_first = (*_cpu_split(consumer.pid), core_idle_s(core))
                sampler = None if profile is None else await _py_spy(consumer.pid, profile)
        cpu_last = (*_cpu_split(consumer.pid), core_idle_s(core))
    finally:
        if sampler is not None:
            sampler.send_signal(signal.SIGINT)  # py-spy writes what it sampled, then exits
            await asyncio.wait_for(sampler.wait(), 60)
        await clock.stop()
        os.killpg(consumer.pid, signal.SIGTERM)
        await asyncio.wait_for(consumer.wait(), 60)
    seen = sorted(clock.arrived[i] for i in ids)[_SETTLE:]
    images = len(seen) - 1
    replica, kernel, workers, queued, idle = (
        (last - first) / images * 1000 for first, last in zip(cpu_first, cpu_last, strict=True)
    )
    rate = Rate(images / (seen[-1] - seen[0]), replica + workers, queued, idle)
    return Drained(rate, replica, kernel, workers)


async def _py_spy(pid: int, out: Path) -> asyncio.subprocess.Process:
    """py-spy sampling ``pid`` and its children without stopping them (on the other cores)."""
    return await asyncio.create_subprocess_exec(
        *(
            str(_PY_SPY),
            "record",
            "--nonblocking",
            "--subprocesses",
            "--format",
            "raw",
        ),
        *("--rate", "200", "--output", str(out), "--pid", str(pid)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def core_idle_s(core: int) -> float:
    """Seconds ``core`` has spent idle (or waiting for I/O) since boot (``/proc/stat``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    for line in Path("/proc/stat").read_text(encoding="ascii").splitlines():
        fields = line.split()
        if fields[0] == f"cpu{core}":
            return (int(fields[4]) + int(fields[5])) / ticks
    raise ValueError(f"no core {core} in /proc/stat")


def _cpu_split(leader: int) -> tuple[float, float, float, float]:
    """CPU seconds so far of the replica's own process, the kernel's share of them, the rest
    of its group's, and the seconds the group's threads waited for the core while runnable."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{leader}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    own, kernel = (int(fields[11]) + int(fields[12])) / ticks, int(fields[12]) / ticks
    members = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _group_of(p) == leader]
    return own, kernel, group_cpu_s(leader) - own, sum(_queued_s(p) for p in members)


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


def cli_rate(folder: Path, core: int) -> tuple[Rate, float]:
    """``civicqc score --jobs 1``'s loop on ``core`` over the files of ``folder``, and the
    CPU per image of ``core.score`` alone on the same photos, already in memory."""
    pinned = ("taskset", "-c", str(core), sys.executable, "-m", "bench.drain", _CLI_MODE)
    done = subprocess.run(
        [*pinned, str(folder), str(core)],
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    engine_ms = figures.pop("core_score_cpu_ms_per_image")
    return Rate(**figures), engine_ms


def _cli_loop(folder: Path, core: int) -> None:
    """Runs in the pinned child: time ``score_files(..., jobs=1)`` once warm, then
    ``core.score`` alone on the same bytes."""
    from civicqc.commands.score import score_files
    from core import builtin_profile, score

    files = sorted(folder.iterdir())
    rules = builtin_profile("default")
    list(score_files(files[:2], rules, jobs=1))  # imports, page cache
    me = Path(f"/proc/{os.getpid()}")
    cpu, wall, queued, idle = (
        time.process_time(),
        time.perf_counter(),
        _queued_s(me),
        core_idle_s(core),
    )
    count = sum(1 for _ in score_files(files, rules, jobs=1))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    queued, idle = _queued_s(me) - queued, core_idle_s(core) - idle
    photos = [(path.name, path.read_bytes()) for path in files]
    engine = time.process_time()
    for name, data in photos:
        score(data, rules, image_id=name)
    engine = time.process_time() - engine
    figures = {
        "images_per_s": count / wall,
        "cpu_ms_per_image": cpu / count * 1000,
        "queued_ms_per_image": queued / count * 1000,
        "idle_ms_per_image": idle / count * 1000,
        "core_score_cpu_ms_per_image": engine / len(photos) * 1000,
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
        ratios: dict[str, list[tuple[float, float, float]]] = {}
        for run in range(1, args.runs + 1):
            # The CLI runs before and after the drains, and the consumers take turns
            # going first, so a change in the machine's load weighs on all sides alike.
            cli_before, engine_before = cli_rate(Path(folder), args.core)
            drained = {}
            for name, tree in consumers if run % 2 else consumers[::-1]:
                group = {"CONSUMER_GROUP": f"civicqc-drain-{'before' if tree else 'this'}"}
                await caught_up(env, group["CONSUMER_GROUP"])
                ids = await preload(env, photos, args.images)
                profile = args.profile if run == 1 and tree is None else None
                drained[name] = await drain(
                    {**env, **group}, ids, args.core, log, args.timeout_s, tree, profile
                )
            cli_after, engine_after = cli_rate(Path(folder), args.core)
            cli = Rate(
                *((a + b) / 2 for a, b in zip(astuple(cli_before), astuple(cli_after), strict=True))
            )
            engine_ms = (engine_before + engine_after) / 2
            print(f"run {run}: civicqc score --jobs 1 on core {args.core}: {_figures(cli)}")
            print(f"  core.score alone, same photos in memory: {engine_ms:.1f} ms CPU per image")
            for name, _tree in consumers:
                print(f"  consumer, {name}: {_compared(drained[name], cli, engine_ms)}", flush=True)
                ratios.setdefault(name, []).append(_ratios(drained[name], cli, engine_ms))
        for name, _tree in consumers:
            print(_summary(name, ratios[name]))


def _ratios(drained: Drained, cli: Rate, engine_ms: float) -> tuple[float, float, float]:
    """The drain's rate over the CLI's, its CPU over ``core.score``'s, the replica's CPU."""
    rate = drained.rate
    return (
        rate.images_per_s / cli.images_per_s,
        rate.cpu_ms_per_image / engine_ms,
        drained.replica_ms_per_image,
    )


def _summary(name: str, runs: list[tuple[float, float, float]]) -> str:
    """Means over the runs: one run on a shared core says little (docs/CAPACITY.md)."""
    rate, cpu, replica = (statistics.fmean(column) for column in zip(*runs, strict=True))
    return (
        f"over {len(runs)} runs, consumer, {name}: rate {rate:.0%} of the CLI's, CPU "
        f"{cpu:.2f}x core.score's, replica {replica:.1f} ms per image (means)"
    )


def _figures(rate: Rate) -> str:
    return (
        f"{rate.images_per_s:.2f} images/s, {rate.cpu_ms_per_image:.1f} ms CPU per image, "
        f"{rate.queued_ms_per_image:.1f} ms runnable but waiting for the core (all threads), "
        f"core idle {rate.idle_ms_per_image:.1f} ms"
    )


def _compared(drained: Drained, cli: Rate, engine_ms: float) -> str:
    rate = drained.rate
    return (
        f"{_figures(rate)} (replica {drained.replica_ms_per_image:.1f} ms, of which kernel "
        f"{drained.replica_kernel_ms_per_image:.1f} ms, + scoring worker "
        f"{drained.workers_ms_per_image:.1f} ms); rate {rate.images_per_s / cli.images_per_s:.0%} "
        f"of the CLI's (target >= 85%), CPU {rate.cpu_ms_per_image / cli.cpu_ms_per_image:.2f}x "
        f"the CLI's, {rate.cpu_ms_per_image / engine_ms:.2f}x core.score's (target <= 1.15)"
    )


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == _CLI_MODE:
        _cli_loop(Path(sys.argv[2]), int(sys.argv[3]))
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
        "--profile",
        type=Path,
        help="sample this tree's replica and worker with py-spy during run 1's drain, "
        "into this file (collapsed stacks)",
    )
    parser.add_argument(
        "--before",
        type=Path,
        help="a checkout of an earlier commit (git worktree add --detach DIR REV): its "
        "consumer drains a backlog of its own in the same runs, for before/after figures",
    )
    args = parser.parse_args()
    if args.images < 2 * _SETTLE:
        parser.error(f"--images must be at least {2 * _SETTLE}")
    if args.profile and not _PY_SPY.is_file():
        # Not a dependency of the package: a profiling tool, wanted only here.
        parser.error(f"--profile needs py-spy, not found at {_PY_SPY}: pip install py-spy")
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
