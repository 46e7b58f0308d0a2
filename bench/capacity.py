"""The capacity plan's arithmetic: measured per-image costs in, cores, partitions, bytes out.

Nothing here is measured: every input is a figure another bench printed, passed as
an option (the defaults are the figures docs/CAPACITY.md quotes, with the command
that printed each). The event sizes are computed here from real events of the
engine. Prints the markdown tables of docs/CAPACITY.md::

    python -m bench.capacity --api-ms 11.8 --drain-per-core 24.0 --kafka-ms 9.0 ...
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bench.photos import phone_jpeg
from core import builtin_profile, score
from core.events import ImageSubmitted, ObjectRef, SubmissionMetadata, VerdictEvent
from core.schema import Timings

RATES = (10, 100, 1_000, 10_000)
DAY_S = 86_400


@dataclass(frozen=True)
class Plan:
    """One row: what ``rate`` uploads/s needs."""

    rate: float
    api_cores: float
    consumer_cores: float
    consumer_replicas: int
    kafka_cores: float
    store_cores: float


def event_sizes() -> tuple[int, int]:
    """Bytes of one ``ImageSubmitted`` and one ``VerdictEvent`` for a real 12 MP photo.

    The verdict's measured durations are replaced by fixed ones of their usual width
    (three decimals), so the same engine always gives the same sizes and
    docs/CAPACITY.md's tables can be checked against this module's output.
    """
    data = phone_jpeg("coffee")
    # A fixed instant with microseconds, as most are: the JSON leaves out a zero fraction.
    now = datetime(2026, 11, 30, 12, 0, 0, 123_456, tzinfo=UTC)
    ref = ObjectRef(
        bucket="civicqc-images",
        key="photos/2026/11/30/0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b.jpg",
        size_bytes=len(data),
        sha256="0" * 64,
        content_type="image/jpeg",
        format="jpeg",
    )
    metadata = SubmissionMetadata(tenant="springfield", category="pothole")
    submitted = ImageSubmitted(image_id="0" * 36, submitted_at=now, object=ref, metadata=metadata)
    measured = score(data, builtin_profile("default"), image_id="0" * 36)
    timings = Timings(decode_ms=35.125, checks_ms=12.125, total_ms=47.25)
    checks = {
        name: check.model_copy(update={"duration_ms": 1.125})
        for name, check in measured.checks.items()
    }
    verdict = measured.model_copy(update={"timings": timings, "checks": checks})
    event = VerdictEvent.of(
        verdict, image_id="0" * 36, submitted_at=now, scored_at=now, metadata=metadata, object=ref
    )
    return len(submitted.model_dump_json()), len(event.model_dump_json())


def plan(rate: float, args: argparse.Namespace) -> Plan:
    consumer_cores = rate / args.drain_per_core / args.consumer_utilisation
    return Plan(
        rate=rate,
        api_cores=rate * args.api_ms / 1000 / args.utilisation,
        consumer_cores=consumer_cores,
        consumer_replicas=math.ceil(consumer_cores / args.cores_per_replica),
        kafka_cores=rate * args.kafka_ms * args.kafka_replication / 1000 / args.utilisation,
        store_cores=rate * args.store_ms / 1000 / args.utilisation,
    )


def _partitions(peak: Plan) -> int:
    """Enough for every consumer replica at the peak, in sixes, at least six."""
    return max(6, 6 * math.ceil(peak.consumer_replicas / 6))


def print_cores(args: argparse.Namespace) -> None:
    print("| uploads/s | load | API | consumers (replicas) | Kafka | object store | partitions |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for rate in RATES:
        peak = plan(rate * args.peak, args)
        for label, row in (("sustained", plan(rate, args)), (f"{args.peak:g}x peak", peak)):
            print(
                f"| {rate:,} | {label} | {row.api_cores:.1f} | {row.consumer_cores:.1f} "
                f"({row.consumer_replicas}) | {row.kafka_cores:.1f} | {row.store_cores:.1f} "
                f"| {_partitions(peak)} |"
            )


def print_bytes(args: argparse.Namespace, submitted_b: int, verdict_b: int) -> None:
    kept_days = args.accepted * args.accepted_days + (1 - args.accepted) * args.rejected_days
    print(
        "\n| uploads/s | photos in (TB/day) | store reads (TB/day) | Kafka in (GB/day) "
        "| verdict fan-out per reader (GB/day) | new photos (TB/day) | photos kept (PB) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for rate in RATES:
        photos_tb = rate * DAY_S * args.photo_mb / 1e6
        kafka_gb = rate * DAY_S * (submitted_b + verdict_b) / 1e9
        fan_out_gb = rate * DAY_S * verdict_b / 1e9
        print(
            f"| {rate:,} | {photos_tb:.2f} | {photos_tb:.2f} | {kafka_gb:.1f} | {fan_out_gb:.1f} "
            f"| {photos_tb:.2f} | {photos_tb * kept_days / 1000:.2f} |"
        )


def print_scaling(args: argparse.Namespace) -> None:
    per_replica = args.drain_per_core * args.cores_per_replica * args.consumer_utilisation
    threshold = per_replica * args.queue_s
    print(
        f"\none replica ({args.cores_per_replica} cores): {per_replica:.0f} images/s; "
        f"lagThreshold for {args.queue_s:g} s of queueing: {threshold:.0f}\n"
    )
    print("| uploads/s | maxReplicaCount (the peak) | one-hour backlog drains in |")
    print("| --- | --- | --- |")
    for rate in RATES:
        replicas = plan(rate * args.peak, args).consumer_replicas
        spare = replicas * per_replica - rate
        minutes = rate * 3600 / spare / 60
        print(f"| {rate:,} | {replicas} | {minutes:.0f} min at the sustained rate |")


def print_index(args: argparse.Namespace) -> None:
    """Every replica holds every tenant's fingerprints of the last ``--index-days`` in
    memory, and a lookup scans its tenant's: both grow with the upload rate, which the
    per-image figures above (drained with a small index) do not show."""
    print(
        "\n| uploads/s | fingerprints held per replica (millions) | index memory per replica, "
        "at most (GiB) | near-duplicate lookup per photo, one tenant (ms CPU) |"
    )
    print("| --- | --- | --- | --- |")
    for rate in RATES:
        held = rate * DAY_S * args.index_days
        print(
            f"| {rate:,} | {held / 1e6:.1f} | {held * args.index_bytes / 2**30:.2f} "
            f"| {held / 1e6 * args.lookup_ms_per_million:.1f} |"
        )
    fits = args.index_budget_gib * 2**30 / args.index_bytes / (DAY_S * args.index_days)
    print(
        f"an index budget of {args.index_budget_gib:g} GiB per replica holds "
        f"{fits:.1f} uploads/s over {args.index_days:g} days"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--api-ms", type=float, required=True, help="API CPU ms per upload (bench.upload_cost)")
    add("--drain-per-core", type=float, required=True, help="images/s, one core (bench.drain)")
    add("--kafka-ms", type=float, required=True, help="Kafka CPU ms per image (bench.pipeline)")
    add("--store-ms", type=float, required=True, help="store CPU ms per image (bench.pipeline)")
    add("--photo-mb", type=float, required=True, help="mean photo size (bench.pipeline)")
    add("--kafka-replication", type=float, default=3.0, help="production replication factor")
    add("--peak", type=float, default=5.0, help="morning peak over the sustained rate")
    add("--utilisation", type=float, default=0.7, help="target CPU use of API, Kafka, store")
    add("--consumer-utilisation", type=float, default=0.9, help="of consumer cores")
    add("--cores-per-replica", type=int, default=2, help="WORKER_PROCESSES of a consumer")
    add("--queue-s", type=float, default=1.0, help="queueing KEDA may let build per replica")
    add("--accepted", type=float, default=0.375, help="share accepted (docs/OPERATIONS.md)")
    add("--accepted-days", type=float, default=180.0)
    add("--rejected-days", type=float, default=30.0)
    add(
        "--index-bytes",
        type=float,
        default=76.0,
        help="per photo at most: 56 in columns, up to a quarter more capacity, and one "
        "column held twice while growing (core/similar.py; bench.near_duplicates: 58-68)",
    )
    add(
        "--lookup-ms-per-million",
        type=float,
        default=1.16,
        help="near-duplicate lookup CPU at a million photos (bench.near_duplicates)",
    )
    add("--index-days", type=float, default=8.0, help="search window plus KEEP_MARGIN_S")
    add(
        "--index-budget-gib",
        type=float,
        default=0.66,
        help="left for the index in a consumer pod, its workers at their memory headroom "
        "(bench.consumer_memory)",
    )
    args = parser.parse_args(argv)
    submitted_b, verdict_b = event_sizes()
    print(f"events: ImageSubmitted {submitted_b} B, VerdictEvent {verdict_b} B")
    print_cores(args)
    print_bytes(args, submitted_b, verdict_b)
    print_scaling(args)
    print_index(args)


if __name__ == "__main__":
    main()
