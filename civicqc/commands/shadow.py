"""``civicqc shadow report``: the photos on which a tenant's candidate profile and the live one
disagree, and why, read from ``images.verdicts.shadow`` and ``images.verdicts``.

It reads both topics without a consumer group (no subscriber's offsets move), from
their start up to the end each had when the report began, so it finishes on a busy
stream; ``--timeout`` and ``--max`` bound it further. The progress bar (stderr) is
imported only here.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Protocol, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from civicqc.commands.kafka_settings import kafka_settings
from civicqc.disagreements import Disagreement, disagreement
from core.events import ShadowVerdict, VerdictEvent
from runtime.kafka_connection import KafkaConnection
from runtime.settings import CommonSettings

M = TypeVar("M", ShadowVerdict, VerdictEvent)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("shadow", help="compare candidate profiles with the live ones")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    report = actions.add_parser(
        "report",
        help="print the photos on which a candidate profile and the live one disagree",
        description="Exit status 0 whatever the disagreements; 2 when Kafka cannot be read.",
    )
    report.add_argument("--tenant", action="append", help="only this tenant (repeatable)")
    report.add_argument(
        "--timeout", type=float, default=60.0, metavar="S", help="stop reading after S seconds"
    )
    report.add_argument(
        "--max", type=int, default=1_000_000, metavar="N", help="read at most N events a topic"
    )
    report.add_argument("--topic", help="live verdict topic (default: TOPIC_VERDICTS)")
    report.add_argument(
        "--shadow-topic", help="shadow verdict topic (default: TOPIC_VERDICTS_SHADOW)"
    )
    report.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    settings, kafka = kafka_settings("shadow report")
    try:
        found = asyncio.run(_compare(args, settings, kafka))
    except KafkaError as exc:
        print(
            f"civicqc shadow report: Kafka at {settings.kafka_bootstrap_servers}: {exc}",
            file=sys.stderr,
        )
        return 2
    disagreements, compared, unmatched = found
    for item in disagreements:
        print("\n".join(item.describe()))
    outcomes = sum(1 for d in disagreements if d.outcome_differs)
    print(
        f"{compared} shadowed photos compared: {len(disagreements)} disagree "
        f"({outcomes} on the outcome); {unmatched} without a live verdict read"
    )
    return 0


async def _compare(
    args: argparse.Namespace, settings: CommonSettings, kafka: KafkaConnection
) -> tuple[list[Disagreement], int, int]:
    from tqdm import tqdm

    read = _Reader(kafka, time.monotonic() + args.timeout, args.max)
    with tqdm(desc="reading", unit="event", file=sys.stderr, disable=None) as bar:
        read.progress = bar
        shadows: dict[str, ShadowVerdict] = {}
        for body in await read(args.shadow_topic or settings.topic_verdicts_shadow):
            shadow = _parsed(ShadowVerdict, body)
            if shadow is not None and (not args.tenant or shadow.tenant in args.tenant):
                shadows[shadow.image_id] = shadow
        lives: dict[str, VerdictEvent] = {}
        for body in await read(args.topic or settings.topic_verdicts):
            live = _parsed(VerdictEvent, body)
            if live is not None and live.image_id in shadows:
                lives[live.image_id] = live
    found = [disagreement(lives[i], s) for i, s in shadows.items() if i in lives]
    return [d for d in found if d is not None], len(lives), len(shadows) - len(lives)


def _parsed(model: type[M], body: bytes) -> M | None:
    try:
        return model.model_validate_json(body)
    except ValidationError:
        return None


class _Progress(Protocol):
    total: float | None

    def update(self, n: float | None = 1) -> bool | None: ...
    def refresh(self) -> None: ...


class _Reader:
    """Reads whole topics within one deadline and a count per topic."""

    def __init__(self, kafka: KafkaConnection, deadline: float, limit: int) -> None:
        self._kafka = kafka
        self._deadline = deadline
        self._limit = limit
        self.progress: _Progress | None = None

    async def __call__(self, topic: str) -> list[bytes]:
        """Every message of ``topic`` up to the end it had on arrival, within the bounds."""
        consumer = AIOKafkaConsumer(
            **self._kafka.options(),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        try:
            await consumer.start()  # inside: closed even when the broker can't be reached
            if topic not in await consumer.topics():
                print(f"civicqc shadow report: no topic {topic}", file=sys.stderr)
                return []
            consumer.subscribe([topic])
            # Without a group, a subscription is assigned every partition once the
            # topic's metadata is in (what this reads is read again from the start).
            while not consumer.assignment() and time.monotonic() < self._deadline:
                await consumer.getmany(timeout_ms=100)
            partitions = sorted(consumer.assignment())
            if not partitions:
                return []
            await consumer.seek_to_beginning(*partitions)
            return await self._drain(consumer, partitions)
        finally:
            await consumer.stop()

    async def _drain(
        self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]
    ) -> list[bytes]:
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        if self.progress is not None:
            self.progress.total = (self.progress.total or 0) + sum(
                min(ends[tp] - starts[tp], self._limit) for tp in partitions
            )
            self.progress.refresh()
        bodies: list[bytes] = []
        while len(bodies) < self._limit and time.monotonic() < self._deadline:
            positions = [await consumer.position(tp) for tp in partitions]
            if all(at >= ends[tp] for at, tp in zip(positions, partitions, strict=True)):
                break
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                bodies += [r.value for r in records if r.value is not None]
                if self.progress is not None:
                    self.progress.update(len(records))
        return bodies[: self._limit]
