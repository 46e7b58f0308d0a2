"""End-to-end latency and sustained throughput of the running stack, against ``civicqc score``.

Run against ``civicqc stack up`` (API + consumers), from the repository root::

    python -m bench.pipeline --env-file .stack/stack.env

Prints, from one run on this machine:

* ``civicqc score`` images/s on the same 12 MP JPEGs, on every core (the ceiling);
* saturated: sustained verdicts/s with a bounded number of uploads in flight, and
  its ratio to the ceiling (target >= 80%);
* half load: open-loop uploads at half the ceiling's rate, submit-to-verdict latency
  p50/p99 as a subscriber sees it (target p99 < 1 s);
* CPU ms per image of each component (API, consumers, Kafka, object store), read from
  ``/proc`` around the saturated run (after ``--warmup`` photos), against the CPU per
  image of ``civicqc score`` on the same photos.

Every upload's bytes are distinct (a JPEG comment, :func:`distinct_copy`), so each is
a new photo to the exact-duplicate check and is scored.

Before and after, in one run: ``--before REF`` starts the stack of commit ``REF``
(exported with ``git archive``) beside the stack of this working tree, each in a
temporary folder, sends both the same photos and prints their CPU per image side by
side with the ratios. With ``--rounds N`` each stack is saturated N times, the two
taking turns, and the rounds are added up: on a shared machine one round's ratio can
move by a tenth either way::

    python -m bench.pipeline --before cca2f56 --half-load-s 0 --saturated 60 --rounds 3

CPU time is far less sensitive than wall time to other work on a shared machine, but
still read the ratios of one run rather than absolute figures. The engine's own cost
changes between commits too (checks added for accuracy), so with ``--before`` each
tree's ``civicqc score`` CPU per image is measured on the same photos, and the last
table is what each pipeline spends beyond its own engine's scoring.

The load generator is bounded (``--in-flight`` uploads awaiting a verdict at most) so
an overloaded pipeline shows up as lower throughput, never as an unbounded queue.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.photos import SOURCES, phone_jpeg
from bench.source_stack import SourceStack, export_commit
from bench.stack_cpu import COMPONENTS, component_cpu_s, jit_cpu_s, per_image_ms
from civicqc.commands.score import score_files
from core import builtin_profile
from core.events import VerdictEvent
from runtime.cpus import usable_cores


def _env_file(path: Path | None) -> Mapping[str, str]:
    values = dict(os.environ)
    if path is not None:
        for line in path.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition("=")
            if sep and not line.lstrip().startswith("#"):
                values.setdefault(key.strip(), value.strip())
    return values


def _photo_files(folder: str, photos: list[bytes], rounds: int) -> list[Path]:
    """The photos written ``rounds`` times into ``folder``, as ``civicqc score`` reads them."""
    files = []
    for i in range(rounds):
        for j, data in enumerate(photos):
            path = Path(folder) / f"{i:03d}-{j:03d}.jpg"
            path.write_bytes(data)
            files.append(path)
    return files


def core_images_per_s(photos: list[bytes], rounds: int, jobs: int) -> tuple[float, float]:
    """``civicqc score`` on ``jobs`` processes over the photos, as files (what the CLI does):
    images/s, and CPU ms per image (its worker processes', read once they have exited)."""
    rules = builtin_profile("default")
    with tempfile.TemporaryDirectory() as folder:
        files = _photo_files(folder, photos, rounds)
        list(score_files(files[:jobs], rules, jobs=jobs))  # warm the page cache and imports
        cpu = _children_cpu_s()
        started = time.perf_counter()
        count = sum(1 for _ in score_files(files, rules, jobs=jobs))
        rate = count / (time.perf_counter() - started)
        return rate, (_children_cpu_s() - cpu) / count * 1000


_TREE_SCORE = """
import resource, sys
from pathlib import Path
from civicqc.commands.score import score_files
from core import builtin_profile
jobs, files = int(sys.argv[1]), [Path(p) for p in sys.argv[2:]]
rules = builtin_profile("default")
list(score_files(files[:jobs], rules, jobs=jobs))
def cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
started = cpu()
count = sum(1 for _ in score_files(files, rules, jobs=jobs))
print((cpu() - started) / count * 1000)
"""


def tree_score_cpu_ms(source: Path, photos: list[bytes], rounds: int, jobs: int) -> float:
    """CPU ms per image of ``civicqc score`` of the checkout at ``source`` (another commit's
    engine), on the same photos, in a process of its own."""
    with tempfile.TemporaryDirectory() as folder:
        files = [str(path) for path in _photo_files(folder, photos, rounds)]
        done = subprocess.run(
            [sys.executable, "-c", _TREE_SCORE, str(jobs), *files],
            cwd=source,
            env={**os.environ, "PYTHONPATH": str(source)},
            check=True,
            capture_output=True,
            text=True,
        )
    return float(done.stdout.split()[-1])


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class VerdictClock:
    """Subscribes to the verdict topic from its end and notes when each image's verdict lands."""

    def __init__(self, servers: str, topic: str) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=servers, enable_auto_commit=False, group_id=None
        )
        self._topic = topic
        self.arrived: dict[str, float] = {}
        self._waiters: dict[str, asyncio.Future[float]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        partitions = self._consumer.partitions_for_topic(self._topic)
        if not partitions:
            await self._consumer._client.force_metadata_update()
            partitions = self._consumer.partitions_for_topic(self._topic) or set()
        tps = [TopicPartition(self._topic, p) for p in sorted(partitions)]
        self._consumer.assign(tps)
        await self._consumer.seek_to_end(*tps)
        for tp in tps:
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        while True:
            batch = await self._consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in batch.values():
                for record in records:
                    image_id = VerdictEvent.model_validate_json(record.value).image_id
                    self.arrived.setdefault(image_id, now)
                    waiter = self._waiters.pop(image_id, None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(now)

    async def verdict_at(self, image_id: str, timeout_s: float) -> float:
        if image_id in self.arrived:
            return self.arrived[image_id]
        waiter = self._waiters.setdefault(image_id, asyncio.get_running_loop().create_future())
        return await asyncio.wait_for(waiter, timeout_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        await self._consumer.stop()


_RUN = time.time_ns()


def distinct_copy(data: bytes, serial: int) -> bytes:
    """``data`` with a JPEG comment naming this run and ``serial`` after its SOI marker.

    The pixels are the same, the bytes are not: without it, every photo after the first
    few is an exact duplicate of an earlier one, which the stack of today answers from
    its record without fetching or scoring (docs/ARCHITECTURE.md, *Exact duplicates*),
    and the consumer's CPU per image would measure that shortcut, not scoring.
    """
    comment = f"civicqc bench {_RUN} {serial}".encode()
    segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    return data[:2] + segment + data[2:]


_SERIALS = iter(range(1 << 62))

#: 503s answered while saturating, each retried as the API asks clients to (counted, printed).
_RETRIED_503: list[int] = [0]
_RETRIES_503 = 5


async def _one(
    client: httpx.AsyncClient,
    clock: VerdictClock,
    data: bytes,
    timeout_s: float,
    retry_503: bool = False,
) -> tuple[float, float]:
    """(submitted, verdict seen) perf_counter times of one photo; with ``retry_503``, a 503
    (the API's "retry shortly", e.g. a Kafka ack slower than its timeout on a loaded
    machine) is retried a few times, half a second apart, as a client would."""
    data = distinct_copy(data, next(_SERIALS))
    submitted = time.perf_counter()
    for attempt in range(_RETRIES_503 + 1):
        response = await client.post(
            "/v1/images", content=data, headers={"Content-Type": "image/jpeg"}
        )
        if response.status_code != 503 or not retry_503 or attempt == _RETRIES_503:
            break
        _RETRIED_503[0] += 1
        await asyncio.sleep(0.5)
    response.raise_for_status()
    seen = await clock.verdict_at(response.json()["id"], timeout_s)
    return submitted, seen


async def saturated(
    client: httpx.AsyncClient, clock: VerdictClock, photos: list[bytes], count: int, in_flight: int
) -> float:
    """Verdicts/s with ``in_flight`` uploads always awaiting their verdict (closed loop)."""
    slots = asyncio.Semaphore(in_flight)

    async def one(i: int) -> tuple[float, float]:
        async with slots:
            return await _one(client, clock, photos[i % len(photos)], 120.0, retry_503=True)

    results = await asyncio.gather(*(one(i) for i in range(count)))
    seen = sorted(s for _sub, s in results)
    warm = seen[in_flight:]  # the first wave pays for an empty pipeline filling up
    return (len(warm) - 1) / (warm[-1] - warm[0])


async def paced(
    client: httpx.AsyncClient,
    clock: VerdictClock,
    photos: list[bytes],
    rate: float,
    count: int,
    in_flight: int,
) -> list[float | None]:
    """Open loop at ``rate`` uploads/s (at most ``in_flight`` pending); latencies in s,
    None for an upload refused or not scored within a minute."""
    slots = asyncio.Semaphore(in_flight)
    start = time.perf_counter()

    async def one(i: int) -> float | None:
        await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        async with slots:
            try:
                submitted, seen = await _one(client, clock, photos[i % len(photos)], 60.0)
            except (httpx.HTTPStatusError, TimeoutError):
                return None  # refused (503) or no verdict within a minute: overloaded
            return seen - submitted

    return list(await asyncio.gather(*(one(i) for i in range(count))))


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


@dataclass(frozen=True)
class StackFigures:
    """What one stack did with the same photos and load."""

    label: str
    throughput: float
    cpu_ms: dict[str, float]
    """CPU ms per image of each component, and ``total``, over the saturated run."""
    marginal_ms: dict[str, float]
    """The same less what each component burns when idle (polls, heartbeats, timers), so
    two runs whose throughput the machine's other load made differ compare fairly."""
    idle_cores: dict[str, float]
    """What each component burns when idle, in cores."""
    p99s: tuple[float, ...]
    kafka_jit_ms: float = 0.0
    """Of Kafka's CPU per image, what its JIT compilers spent (a fresh broker's warm-up)."""


async def measure(
    label: str,
    env: Mapping[str, str],
    stack_root: Path | None,
    photos: list[bytes],
    args: argparse.Namespace,
    ceiling: float,
    *,
    first: bool = True,
) -> StackFigures:
    """Warm the stack up, then saturate it and (optionally) pace it; CPU is read around the
    saturated run only, after the warm-up, so JIT and connection set-up are not charged.
    A later round (``first`` false) of a stack already warmed saturates it only."""
    api = args.api or env.get("API_URL", "http://127.0.0.1:8000")
    clock = VerdictClock(
        env.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        env.get("TOPIC_VERDICTS", "images.verdicts"),
    )
    await clock.start()
    limits = httpx.Limits(max_connections=args.in_flight * 2)
    key = args.api_key or env.get("CIVICQC_API_KEY")
    headers = {"X-API-Key": key} if key else {}
    try:
        async with httpx.AsyncClient(
            base_url=api, timeout=60.0, limits=limits, headers=headers
        ) as client:
            if first and args.warmup:
                await saturated(client, clock, photos, args.warmup, args.in_flight)
            idle = await _idle_cores(stack_root, args.idle_s)
            cpu_before = component_cpu_s(stack_root) if stack_root else {}
            jit_before = jit_cpu_s(stack_root) if stack_root else 0.0
            started = time.perf_counter()
            retried = _RETRIED_503[0]
            throughput = await saturated(client, clock, photos, args.saturated, args.in_flight)
            elapsed = time.perf_counter() - started
            retried = _RETRIED_503[0] - retried
            cpu_after = component_cpu_s(stack_root) if stack_root else {}
            jit_ms = (
                (jit_cpu_s(stack_root) - jit_before) / args.saturated * 1000 if stack_root else 0.0
            )
            print(
                f"[{label}] saturated: {throughput:.2f} verdicts/s sustained "
                f"({args.saturated} photos, {args.in_flight} in flight) = "
                f"{throughput / ceiling:.0%} of civicqc score; {retried} uploads retried after a 503",
                flush=True,
            )
            p99s = (
                await _latency_runs(label, client, clock, photos, args, ceiling, throughput)
                if first
                else []
            )
    finally:
        await clock.stop()
    cpu_ms = per_image_ms(cpu_before, cpu_after, args.saturated) if cpu_after else {}
    fixed = {name: cores * elapsed for name, cores in idle.items()}
    less_idle = {name: cpu_after[name] - fixed.get(name, 0.0) for name in cpu_after}
    marginal = per_image_ms(cpu_before, less_idle, args.saturated) if cpu_after else {}
    return StackFigures(label, throughput, cpu_ms, marginal, idle, tuple(p99s), jit_ms)


def combined(rounds: Sequence[StackFigures]) -> StackFigures:
    """One stack's rounds as one run: each round saturates it with the same number of
    photos, so the mean of the rounds' per-image figures is the figure of all their
    photos together. Latency runs happen in the first round only."""
    first = rounds[0]

    def mean(figures: Sequence[Mapping[str, float]]) -> dict[str, float]:
        return {key: statistics.fmean(f[key] for f in figures) for key in figures[0]}

    return StackFigures(
        first.label,
        statistics.fmean(r.throughput for r in rounds),
        mean([r.cpu_ms for r in rounds]),
        mean([r.marginal_ms for r in rounds]),
        mean([r.idle_cores for r in rounds]),
        first.p99s,
        statistics.fmean(r.kafka_jit_ms for r in rounds),
    )


async def _idle_cores(stack_root: Path | None, seconds: float) -> dict[str, float]:
    """Cores each component burns while no upload is in flight."""
    if stack_root is None or seconds <= 0:
        return {}
    before = component_cpu_s(stack_root)
    await asyncio.sleep(seconds)
    after = component_cpu_s(stack_root)
    return {name: (after[name] - before.get(name, 0.0)) / seconds for name in after}


async def _latency_runs(
    label: str,
    client: httpx.AsyncClient,
    clock: VerdictClock,
    photos: list[bytes],
    args: argparse.Namespace,
    ceiling: float,
    throughput: float,
) -> list[float]:
    if args.half_load_s <= 0:
        return []
    runs = [("half of civicqc score", ceiling / 2), ("half of saturated", throughput / 2)]
    if throughput < ceiling / 2:  # the overloaded run would leave a backlog: go easy first
        runs.reverse()
    p99s = []
    for name, rate in runs:
        count = max(20, int(rate * args.half_load_s))
        results = await paced(client, clock, photos, rate, count, args.in_flight * 4)
        latencies = [r for r in results if r is not None] or [float("inf")] * 2
        failed = sum(1 for r in results if r is None)
        p50, p99 = _percentile(latencies, 50), _percentile(latencies, 99)
        p99s.append(p99 if not failed else float("inf"))
        await asyncio.sleep(5.0)  # let any backlog drain before the next run
        print(
            f"[{label}] paced ({name}): {rate:.2f} uploads/s, {count} photos: submit->verdict "
            f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms, failed {failed}",
            flush=True,
        )
    return p99s


def print_overhead(runs: list[StackFigures], scoring_ms: dict[str, float]) -> None:
    """Each stack's CPU per image beyond what its own engine's ``civicqc score`` spends on
    the same photos: what the pipeline adds, whatever the engine's checks cost."""
    measured = [run for run in runs if run.cpu_ms and run.label in scoring_ms]
    if not measured:
        return
    print(f"\n{'beyond scoring':<19}{'scoring':>14}{'total - it':>14}{'less idle':>14}")
    rows = []
    for run in measured:
        engine = scoring_ms[run.label]
        row = (run.cpu_ms["total"] - engine, run.marginal_ms["total"] - engine)
        rows.append(row)
        print(f"{run.label:<19}{engine:14.1f}{row[0]:14.1f}{row[1]:14.1f}")
    if len(rows) == 2:
        (first, first_less), (last, last_less) = rows
        print(f"{'after / before':<19}{'':>14}{last / first:14.2f}{last_less / first_less:14.2f}")


def print_cpu_table(runs: list[StackFigures], score_cpu_ms: float) -> None:
    """CPU ms per image per component, one row per stack, and after / before when two:
    all of it, then less each component's idle burn."""
    measured = [run for run in runs if run.cpu_ms]
    if not measured:
        return
    columns = [*COMPONENTS, "total"]
    tables: list[tuple[str, list[dict[str, float]]]] = [
        ("CPU ms per image", [r.cpu_ms for r in measured]),
        ("less idle burn", [r.marginal_ms for r in measured]),
    ]
    for title, rows in tables:
        print(f"\n{title:<19}" + "".join(f"{name:>14}" for name in columns))
        for run, row in zip(measured, rows, strict=True):
            print(f"{run.label:<19}" + "".join(f"{row[n]:14.1f}" for n in columns))
        if len(rows) == 2:
            first, last = rows
            ratios = "".join(f"{last[n] / first[n]:14.2f}" for n in columns)
            print(f"{'after / before':<19}{ratios}")
    for run in measured:
        idle = ", ".join(f"{name} {cores:.3f}" for name, cores in run.idle_cores.items())
        print(f"{run.label}: idle burn in cores: {idle}")
        print(f"{run.label}: of Kafka's CPU per image, JIT compiling: {run.kafka_jit_ms:.1f} ms")
    print(f"{'civicqc score':<19}{score_cpu_ms:14.1f} ms per image (same photos, same run)")
    for run in measured:
        total, marginal = run.cpu_ms["total"], run.marginal_ms["total"]
        print(
            f"{run.label}: total / civicqc score = {total / score_cpu_ms:.2f} "
            f"(less idle burn {marginal / score_cpu_ms:.2f})"
        )


async def _before_and_after(
    source: Path, photos: list[bytes], args: argparse.Namespace, ceiling: float, jobs: int
) -> tuple[list[StackFigures], dict[str, float]]:
    """Both stacks up at once, each saturated ``args.rounds`` times, taking turns (the
    order flips every round), each round with its own ``civicqc score`` of both trees: a
    change in the machine's load then falls on both sides alike. Returns the two stacks'
    rounds combined and each tree's mean scoring CPU per image."""
    before = f"before {args.before}"
    rounds: dict[str, list[StackFigures]] = {before: [], "after": []}
    scoring: dict[str, list[float]] = {before: [], "after": []}
    with SourceStack(source, "before") as old, SourceStack(Path.cwd(), "after") as new:
        # Each side's scoring: the before tree's in a process of its own, this tree's here.
        sides: list[tuple[str, Callable[[], float], SourceStack]] = [
            (before, lambda: tree_score_cpu_ms(source, photos, args.core_rounds, jobs), old),
            ("after", lambda: core_images_per_s(photos, args.core_rounds, jobs)[1], new),
        ]
        for number in range(args.rounds):
            for label, score_cpu_ms, stack in sides if number % 2 == 0 else sides[::-1]:
                scoring[label].append(score_cpu_ms())
                env = _env_file(stack.env_file)
                figures = await measure(
                    label, env, stack.root, photos, args, ceiling, first=number == 0
                )
                rounds[label].append(figures)
            if args.rounds > 1:
                print_round(number + 1, rounds[before][-1], rounds["after"][-1], scoring, before)
    runs = [combined(rounds[before]), combined(rounds["after"])]
    return runs, {label: statistics.fmean(ms) for label, ms in scoring.items()}


def print_round(
    number: int,
    before: StackFigures,
    after: StackFigures,
    scoring: Mapping[str, list[float]],
    before_label: str,
) -> None:
    """One round's totals: how far a single round's ratio moves is what the rounds are for."""
    old, new = scoring[before_label][-1], scoring["after"][-1]
    total_old, total_new = before.cpu_ms["total"], after.cpu_ms["total"]
    print(
        f"round {number}: total {total_old:.1f} / {total_new:.1f} ms "
        f"({total_new / total_old:.2f}), civicqc score {old:.1f} / {new:.1f} ms "
        f"({new / old:.2f}), beyond scoring {(total_new - new) / (total_old - old):.2f}",
        flush=True,
    )


async def run(args: argparse.Namespace) -> None:
    jobs = usable_cores()
    print(f"making {args.photos} 12 MP JPEGs ...", flush=True)
    photos = [phone_jpeg(SOURCES[i % len(SOURCES)], seed=i) for i in range(args.photos)]
    mean_mb = statistics.mean(len(p) for p in photos) / 1e6
    ceiling, score_cpu_ms = core_images_per_s(photos, rounds=args.core_rounds, jobs=jobs)
    print(
        f"civicqc score: {ceiling:.2f} images/s on {jobs} processes, "
        f"{score_cpu_ms:.1f} CPU ms per image ({mean_mb:.1f} MB each)"
    )
    runs: list[StackFigures] = []
    scoring_ms = {"after": score_cpu_ms}
    if args.before:
        with tempfile.TemporaryDirectory(prefix="civicqc-before-") as tree:
            source = export_commit(args.before, Path(tree))
            runs, scoring_ms = await _before_and_after(source, photos, args, ceiling, jobs)
        score_cpu_ms = scoring_ms["after"]
    else:
        root = args.env_file.resolve().parent if args.env_file else None
        runs.append(await measure("stack", _env_file(args.env_file), root, photos, args, ceiling))
    print_cpu_table(runs, score_cpu_ms)
    print_overhead(runs, scoring_ms)
    last = runs[-1]
    met = last.throughput / ceiling >= 0.8 and (not last.p99s or max(last.p99s) < 1.0)
    print(
        f"targets (>= 80% of civicqc score, p99 < 1 s at half of it): {'met' if met else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--env-file", type=Path, help="stack.env of `civicqc stack up`")
    parser.add_argument("--api", help="API base URL (default: API_URL)")
    parser.add_argument("--api-key", help="sent as X-API-Key (default: CIVICQC_API_KEY)")
    parser.add_argument("--photos", type=int, default=8, help="distinct 12 MP photos")
    parser.add_argument("--core-rounds", type=int, default=3, help="passes of civicqc score")
    parser.add_argument("--saturated", type=int, default=40, help="photos in the saturated run")
    parser.add_argument("--in-flight", type=int, default=6, help="uploads awaiting a verdict")
    parser.add_argument(
        "--half-load-s", type=float, default=8.0, help="length of the paced runs (0: none)"
    )
    parser.add_argument("--warmup", type=int, default=20, help="photos sent before measuring")
    parser.add_argument("--idle-s", type=float, default=5.0, help="idle burn read over this")
    parser.add_argument(
        "--before",
        metavar="REF",
        help="also start the stack of git REF beside this tree's, and compare their CPU per image",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="with --before: saturate each stack this many times, taking turns, and add "
        "the rounds up",
    )
    args = parser.parse_args()
    if args.rounds < 1 or (args.rounds > 1 and not args.before):
        parser.error("--rounds takes a count of at least 1, and more than 1 only with --before")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
