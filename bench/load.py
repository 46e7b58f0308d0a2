"""Hold N uploads per second for M minutes against a running API; report latency and RSS.

Open loop: request ``i`` is due at ``start + i / rate`` whether or not earlier ones
have answered, so a slow API shows up as latency and errors, not as a lower offered
rate (at most ``--concurrency`` requests are in flight; a request that has to wait
for a slot counts as late). Meanwhile the resident memory of the API and consumer
processes (each with its children: the scoring pool) is sampled with psutil.

    python -m bench.load --url http://127.0.0.1:8000 --rate 20 --minutes 5 \\
        --stack-dir .stack --api-key "$KEY"

``--stack-dir`` finds the API and consumer PIDs in ``.stack/run/*.pid``; ``--pid
NAME=PID`` names others. The JSON report goes to stdout, a summary to stderr; the
exit code is 1 when the error rate is over ``--max-error-rate`` or RSS grew.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

#: RSS counts as grown when the median of the last quarter of samples exceeds the
#: median of the second quarter (the first is warm-up) by both of these.
RSS_GROWTH_RATIO = 1.20
RSS_GROWTH_BYTES = 32 * 1024 * 1024
MiB = 1024 * 1024


@dataclass(frozen=True)
class Sample:
    """One upload: when it was sent (seconds since start), how long it took, the answer."""

    sent_s: float
    latency_s: float
    status: int | None  #: None: no HTTP answer (connection error or client timeout)
    image_id: str | None
    late_s: float = 0.0  #: how long it waited for a free slot past its due time


@dataclass(frozen=True)
class RssSample:
    at_s: float
    name: str
    rss_bytes: int


@dataclass
class LoadResult:
    rate: float
    duration_s: float
    samples: list[Sample] = field(default_factory=list)
    rss: list[RssSample] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def accepted_ids(self) -> list[str]:
        return [s.image_id for s in self.samples if s.status == 202 and s.image_id]

    def report(self) -> dict[str, Any]:
        latencies = sorted(s.latency_s for s in self.samples)
        statuses = Counter("error" if s.status is None else str(s.status) for s in self.samples)
        errors = sum(1 for s in self.samples if s.status != 202)
        return {
            "offered_rate_per_s": self.rate,
            "duration_s": round(self.elapsed_s, 1),
            "requests": len(self.samples),
            "accepted": len(self.accepted_ids),
            "throughput_per_s": round(len(self.accepted_ids) / self.elapsed_s, 2)
            if self.elapsed_s
            else 0.0,
            "latency_p50_ms": round(_quantile(latencies, 0.50) * 1000, 1),
            "latency_p99_ms": round(_quantile(latencies, 0.99) * 1000, 1),
            "latency_max_ms": round(latencies[-1] * 1000, 1) if latencies else 0.0,
            "error_rate": round(errors / len(self.samples), 4) if self.samples else 0.0,
            "statuses": dict(sorted(statuses.items())),
            "late_requests": sum(1 for s in self.samples if s.late_s > 0.1),
            "rss": self.rss_report(),
        }

    def rss_report(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for name in sorted({r.name for r in self.rss}):
            series = [r for r in self.rss if r.name == name]
            values = [r.rss_bytes for r in series]
            quarter = max(1, len(values) // 4)
            warm = statistics.median(values[quarter : 2 * quarter] or values)
            last = statistics.median(values[-quarter:])
            grew = len(values) >= 8 and (
                last > warm * RSS_GROWTH_RATIO and last - warm > RSS_GROWTH_BYTES
            )
            out[name] = {
                "first_mib": round(values[0] / MiB, 1),
                "warm_median_mib": round(warm / MiB, 1),
                "last_median_mib": round(last / MiB, 1),
                "max_mib": round(max(values) / MiB, 1),
                "samples": len(values),
                "every_10th_mib": [round(v / MiB, 1) for v in values[::10]],
                "growth_flagged": grew,
            }
        return out

    @property
    def rss_grew(self) -> bool:
        return any(entry["growth_flagged"] for entry in self.rss_report().values())


def _quantile(ordered: Sequence[float], q: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    for proc in (process, *process.children(recursive=True)):
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total


async def _watch_rss(
    pids: Mapping[str, int], interval_s: float, start: float, out: list[RssSample]
) -> None:
    processes = {}
    for name, pid in pids.items():
        try:
            processes[name] = psutil.Process(pid)
        except psutil.Error:
            continue
    while True:
        now = time.monotonic() - start
        for name, process in processes.items():
            try:
                out.append(RssSample(now, name, _tree_rss(process)))
            except psutil.Error:
                continue
        await asyncio.sleep(interval_s)


async def run_load(
    url: str,
    *,
    rate: float,
    duration_s: float,
    photos: Sequence[tuple[bytes, str]],
    api_key: str | None = None,
    tenant: str | None = None,
    concurrency: int = 64,
    timeout_s: float = 10.0,
    watch: Mapping[str, int] | None = None,
    rss_interval_s: float = 1.0,
) -> LoadResult:
    """Send ``rate`` uploads per second for ``duration_s``; ``photos`` are (bytes, type)."""
    if rate <= 0 or not photos:
        raise ValueError("need a positive rate and at least one photo")
    result = LoadResult(rate=rate, duration_s=duration_s)
    headers = {"X-API-Key": api_key} if api_key else {}
    if tenant:
        headers["X-Tenant"] = tenant
    slots = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    start = time.monotonic()
    watcher = asyncio.create_task(_watch_rss(watch or {}, rss_interval_s, start, result.rss))
    async with httpx.AsyncClient(base_url=url, timeout=timeout_s, limits=limits) as client:

        async def one(index: int, due: float) -> None:
            async with slots:
                sent = time.monotonic()
                data, content_type = photos[index % len(photos)]
                status: int | None = None
                image_id = None
                try:
                    answer = await client.post(
                        "/v1/images",
                        content=data,
                        headers={**headers, "Content-Type": content_type},
                    )
                    status = answer.status_code
                    if status == 202:
                        image_id = answer.json()["id"]
                except httpx.HTTPError:
                    pass
                done = time.monotonic()
                result.samples.append(
                    Sample(sent - start, done - sent, status, image_id, max(0.0, sent - due))
                )

        tasks = []
        total = int(rate * duration_s)
        for index in range(total):
            due = start + index / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(index, due)))
        await asyncio.gather(*tasks)
    result.elapsed_s = time.monotonic() - start
    watcher.cancel()
    return result


def stack_pids(stack_dir: Path) -> dict[str, int]:
    """``api`` and ``consumer-N`` PIDs from a ``civicqc stack`` folder's pidfiles."""
    pids: dict[str, int] = {}
    for path in sorted((stack_dir / "run").glob("*.pid")):
        if path.stem == "api" or path.stem.startswith("consumer"):
            try:
                pids[path.stem] = int(json.loads(path.read_text(encoding="utf-8"))["pid"])
            except (OSError, ValueError, KeyError):
                continue
    return pids


def default_photos() -> list[tuple[bytes, str]]:
    """A few small, real JPEGs (scikit-image's sample photos), re-encoded once."""
    import io

    from PIL import Image
    from skimage import data as samples

    out = []
    for name in ("astronaut", "coffee", "chelsea"):
        buffer = io.BytesIO()
        Image.fromarray(getattr(samples, name)()).save(buffer, "JPEG", quality=85)
        out.append((buffer.getvalue(), "image/jpeg"))
    return out


def _pid_arg(value: str) -> tuple[str, int]:
    name, _, pid = value.partition("=")
    if not name or not pid.isdigit():
        raise argparse.ArgumentTypeError("expected NAME=PID")
    return name, int(pid)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--rate", type=float, default=10.0, help="uploads per second")
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--api-key")
    parser.add_argument("--tenant")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--stack-dir", type=Path, help="find api/consumer PIDs here")
    parser.add_argument("--pid", type=_pid_arg, action="append", default=[], metavar="NAME=PID")
    parser.add_argument("--max-error-rate", type=float, default=0.01)
    args = parser.parse_args(argv)
    pids = dict(args.pid)
    if args.stack_dir is not None:
        pids.update(stack_pids(args.stack_dir))
    result = asyncio.run(
        run_load(
            args.url,
            rate=args.rate,
            duration_s=args.minutes * 60,
            photos=default_photos(),
            api_key=args.api_key,
            tenant=args.tenant,
            concurrency=args.concurrency,
            watch=pids,
        )
    )
    report = result.report()
    print(json.dumps(report, indent=2))
    print(
        f"{report['throughput_per_s']}/s accepted, p50 {report['latency_p50_ms']} ms, "
        f"p99 {report['latency_p99_ms']} ms, errors {report['error_rate']:.2%}, "
        f"RSS grew: {result.rss_grew}",
        file=sys.stderr,
    )
    return 1 if report["error_rate"] > args.max_error_rate or result.rss_grew else 0


if __name__ == "__main__":
    sys.exit(main())
