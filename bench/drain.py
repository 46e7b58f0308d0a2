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

Usage: ``python -m bench.drain [--images 80] [--runs 2] [--core 1]``
"""

from __future__ import annotations

import argparse
import asyncio
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
    env: dict[str, str], ids: list[str], core: int, log: Path, timeout_s: float
) -> Drained:
    """Start one pinned consumer on the backlog ``ids``; its steady-state rate and CPU.

    The window opens at verdict ``_SETTLE + 1``, not the first: the replica fetches
    ``MAX_IN_FLIGHT`` events at once and may score several of them before its first
    verdict lands (the producer's first metadata request), and that work would
    otherwise count as free.
    """
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
            },
            start_new_session=True,  # its own process group, so its CPU can be read
            stdout=log_file,
            stderr=log_file,
        )
    try:
        arrived = 0
        for verdict in asyncio.as_completed([clock.verdict_at(i, timeout_s) for i in ids]):
            await verdict
            arrived += 1
            if arrived == _SETTLE + 1:
                cpu_first = _cpu_split(consumer.pid)
        cpu_last = _cpu_split(consumer.pid)
    finally:
        await clock.stop()
        os.killpg(consumer.pid, signal.SIGTERM)
        await asyncio.wait_for(consumer.wait(), 60)
    seen = sorted(clock.arrived[i] for i in ids)[_SETTLE:]
    images = len(seen) - 1
    replica, workers = (
        (last - first) / images * 1000 for first, last in zip(cpu_first, cpu_last, strict=True)
    )
    return Drained(Rate(images / (seen[-1] - seen[0]), replica + workers), replica, workers)


def _cpu_split(leader: int) -> tuple[float, float]:
    """CPU seconds so far of the replica's own process and of the rest of its group."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{leader}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / ticks
    return own, group_cpu_s(leader) - own


def cli_rate(folder: Path, core: int) -> Rate:
    """``civicqc score --jobs 1``'s loop on ``core`` over the files of ``folder``."""
    done = subprocess.run(
        ["taskset", "-c", str(core), sys.executable, "-m", "bench.drain", _CLI_MODE, str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return Rate(figures["images_per_s"], figures["cpu_ms_per_image"])


def _cli_loop(folder: Path) -> None:
    """Runs in the pinned child: time ``score_files(..., jobs=1)`` once warm."""
    from civicqc.commands.score import score_files
    from core import builtin_profile

    files = sorted(folder.iterdir())
    rules = builtin_profile("default")
    list(score_files(files[:2], rules, jobs=1))  # imports, page cache
    cpu, wall = time.process_time(), time.perf_counter()
    count = sum(1 for _ in score_files(files, rules, jobs=1))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(json.dumps({"images_per_s": count / wall, "cpu_ms_per_image": cpu / count * 1000}))


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
        for run in range(1, args.runs + 1):
            ids = await preload(env, photos, args.images)
            # The CLI runs before and after the drain, so a change in the machine's
            # load during the run weighs on both sides alike.
            cli_before = cli_rate(Path(folder), args.core)
            drained = await drain(env, ids, args.core, log, args.timeout_s)
            consumer = drained.rate
            cli_after = cli_rate(Path(folder), args.core)
            cli = Rate(
                (cli_before.images_per_s + cli_after.images_per_s) / 2,
                (cli_before.cpu_ms_per_image + cli_after.cpu_ms_per_image) / 2,
            )
            print(
                f"run {run}: drain {consumer.images_per_s:.2f} images/s, "
                f"civicqc score --jobs 1 {cli.images_per_s:.2f} images/s on core {args.core}: "
                f"ratio {consumer.images_per_s / cli.images_per_s:.0%} (target >= 85%); "
                f"CPU per image: consumer {consumer.cpu_ms_per_image:.1f} ms, "
                f"civicqc score {cli.cpu_ms_per_image:.1f} ms, "
                f"ratio {consumer.cpu_ms_per_image / cli.cpu_ms_per_image:.2f} (target <= 1.15); "
                f"consumer = replica {drained.replica_ms_per_image:.1f} ms "
                f"+ scoring worker {drained.workers_ms_per_image:.1f} ms",
                flush=True,
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
