"""Requests per image that the pipeline sends to Kafka and to the object store, before and after.

Run from the repository root (commit first: the "after" tree is ``HEAD``)::

    python -m bench.stack_requests --before REF

CPU per request is what ``bench.store_ops`` and ``bench.pipeline`` measure; this counts
the requests. Each tree (``REF``, then ``HEAD``) is exported with ``git archive`` into a
temporary folder and instrumented there, never in the checkout: the broker's request log
(``kafka.request.logger``) at DEBUG, one line per request it completes (its API, client,
topics, and for a fetch whether it returned records), and SeaweedFS's Prometheus
endpoint (``-metricsPort``), which counts S3 requests by method and status. That tree's
``civicqc stack up`` is sent ``--warmup`` photos (bench.pipeline's closed loop, distinct
bytes each), then the requests made while ``--count`` more are scored are divided by
``--count``. Requests that come at a fixed rate (long polls, heartbeats, commits) are
spread over the images scored meanwhile, so read the per-image figures at the rate
printed with them. The bench's own verdict subscriber is one of the fetchers
(``images.verdicts``, client ``aiokafka``), on both sides.

The request log costs the broker CPU: never time a stack with it on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import httpx

from bench.photos import SOURCES, phone_jpeg
from bench.pipeline import VerdictClock, _env_file, saturated
from bench.source_stack import SourceStack, export_commit
from civicqc.stack.context import LOOPBACK, free_port

_LOG4J = Path("deploy/local/log4j2.properties")
_STORE = Path("civicqc/stack/object_store.py")
#: The argument of ``weed server`` the metrics flags are put after, in every tree so far.
_WEED_ANCHOR = '"-master.telemetry=false",'
_LOGGED = "Completed request:"
#: A request kind: (API, client, topics).
Kind = tuple[str, str, str]


def instrument(tree: Path, metrics_port: int) -> None:
    """Turn on the request log and the store's metrics in the exported ``tree``."""
    log4j = tree / _LOG4J
    text, found = re.subn(
        r"^logger\.request\.level\s*=.*$",
        "logger.request.level = DEBUG",
        log4j.read_text(encoding="utf-8"),
        flags=re.M,
    )
    store = tree / _STORE
    source = store.read_text(encoding="utf-8")
    if found != 1 or _WEED_ANCHOR not in source:
        raise RuntimeError(f"{tree}: cannot instrument this tree's broker log or store flags")
    log4j.write_text(text, encoding="utf-8")
    flags = f'"-metricsPort={metrics_port}", "-metricsIp={LOOPBACK}", '
    store.write_text(source.replace(_WEED_ANCHOR, flags + _WEED_ANCHOR, 1), encoding="utf-8")


def _client(name: str) -> str:
    """``civicqc-api-3f2a9c1d`` -> ``civicqc-api``; ``aiokafka-0.14.0`` -> ``aiokafka``."""
    return re.sub(r"(-[0-9a-f]{8}|-\d+(\.\d+)*)$", "", name)


def kafka_requests(lines: Iterable[str]) -> tuple[Counter[Kind], Counter[Kind]]:
    """Requests by kind in the broker's request log lines, and of them the fetches that
    returned no records."""
    requests: Counter[Kind] = Counter()
    empty: Counter[Kind] = Counter()
    for line in lines:
        start = line.find(_LOGGED)
        if start < 0:
            continue
        try:
            logged = json.JSONDecoder().raw_decode(line, start + len(_LOGGED))[0]
        except ValueError:
            continue
        header, request = logged["requestHeader"], logged.get("request") or {}
        named = request.get("topics") or request.get("topicData") or []
        topics = ",".join(sorted({t.get("topic") or t.get("name") or "" for t in named}))
        kind = (header["requestApiKeyName"], _client(header.get("clientId") or ""), topics)
        requests[kind] += 1
        if kind[0] == "FETCH":
            parts = (p for r in logged["response"].get("responses", []) for p in r["partitions"])
            if not any(p.get("recordsSizeInBytes") for p in parts):
                empty[kind] += 1
    return requests, empty


def store_requests(text: str) -> Counter[str]:
    """S3 requests by method and status in SeaweedFS's metrics text."""
    counts: Counter[str] = Counter()
    for line in text.splitlines():
        if line.startswith("SeaweedFS_s3_request_total{"):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
            counts[f"{labels.get('type')} {labels.get('code')}"] += int(float(line.split()[-1]))
    return counts


class _Reading:
    """Both counters at one moment."""

    def __init__(self, log: Path, metrics_url: str) -> None:
        self.log_offset = log.stat().st_size
        self.store = store_requests(urllib.request.urlopen(metrics_url).read().decode())


async def _count(
    label: str, tree: Path, photos: list[bytes], args: argparse.Namespace
) -> tuple[dict[str, float], float]:
    """Requests per image of each kind in the stack of ``tree``, and the verdicts/s."""
    port = free_port()
    instrument(tree, port)
    metrics_url = f"http://{LOOPBACK}:{port}/metrics"
    with SourceStack(tree, label) as stack:
        env = _env_file(stack.env_file)
        log = stack.root / "logs" / "kafka" / "server.log"
        clock = VerdictClock(
            env["KAFKA_BOOTSTRAP_SERVERS"], env.get("TOPIC_VERDICTS", "images.verdicts")
        )
        await clock.start()
        headers = {"X-API-Key": env["CIVICQC_API_KEY"]}
        try:
            async with httpx.AsyncClient(
                base_url=env["API_URL"], timeout=60, headers=headers
            ) as client:
                await saturated(client, clock, photos, args.warmup, args.in_flight)
                await asyncio.sleep(2.0)
                before = _Reading(log, metrics_url)
                rate = await saturated(client, clock, photos, args.count, args.in_flight)
                await asyncio.sleep(1.0)
                after = _Reading(log, metrics_url)
        finally:
            await clock.stop()
        with log.open("rb") as file:
            file.seek(before.log_offset)
            tail = file.read(after.log_offset - before.log_offset).decode(errors="replace")
    requests, empty = kafka_requests(tail.splitlines())
    per_image = {f"kafka {' '.join(k)}": n / args.count for k, n in requests.items()}
    per_image |= {f"kafka {' '.join(k)} (empty)": n / args.count for k, n in empty.items()}
    per_image["kafka, all requests"] = sum(requests.values()) / args.count
    store = after.store - before.store
    per_image |= {f"store {k}": n / args.count for k, n in store.items()}
    per_image["store, all requests"] = sum(store.values()) / args.count
    return per_image, rate


async def run(args: argparse.Namespace) -> None:
    photos = [phone_jpeg(SOURCES[i % len(SOURCES)], seed=i) for i in range(args.photos)]
    columns: dict[str, dict[str, float]] = {}
    rates = []
    for label, ref in ((f"before {args.before}", args.before), ("after (HEAD)", "HEAD")):
        with tempfile.TemporaryDirectory(prefix="civicqc-requests-") as folder:
            tree = export_commit(ref, Path(folder))
            started = time.perf_counter()
            columns[label], rate = await _count(label.split()[0], tree, photos, args)
            rates.append(rate)
            print(f"[{label}] {rate:.2f} verdicts/s ({time.perf_counter() - started:.0f} s)")
    labels = list(columns)
    kinds = sorted({k for column in columns.values() for k in column}, key=lambda k: (k[:5], k))
    print(f"\n{'requests per image':<78}" + "".join(f"{label:>22}" for label in labels))
    for kind in kinds:
        print(f"{kind:<78}" + "".join(f"{columns[c].get(kind, 0.0):22.2f}" for c in labels))
    print("at " + " and ".join(f"{r:.2f}" for r in rates) + " verdicts/s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", required=True, metavar="REF", help="git ref of the before tree")
    parser.add_argument("--photos", type=int, default=4, help="distinct 12 MP photos")
    parser.add_argument("--warmup", type=int, default=30, help="photos sent before counting")
    parser.add_argument("--count", type=int, default=60, help="photos counted")
    parser.add_argument("--in-flight", type=int, default=6, help="uploads awaiting a verdict")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
