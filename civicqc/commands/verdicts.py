"""``civicqc verdicts tail``: follow the verdict topic as a downstream subscriber would.

It reads without a consumer group, so it never moves a real subscriber's offsets,
and prints one JSON verdict event per line for ``jq`` and friends. Verdicts are
delivered at least once; a subscriber that must act once per photo dedupes by
``image_id`` (copies of one id are byte-identical).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from civicqc.commands.kafka_settings import kafka_settings
from core.events import VerdictEvent
from core.schema import Outcome
from runtime.kafka_connection import KafkaConnection
from runtime.settings import CommonSettings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("verdicts", help="subscribe to the verdict topic")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    tail = actions.add_parser("tail", help="print verdict events as JSON lines")
    tail.add_argument("--tenant", action="append", help="only this tenant (repeatable)")
    tail.add_argument(
        "--verdict",
        action="append",
        choices=[o.value for o in Outcome],
        help="only this outcome (repeatable)",
    )
    tail.add_argument(
        "--duplicates",
        choices=["include", "exclude", "only"],
        default="include",
        help="exact duplicates (verdicts with duplicate_of): print them too (default), "
        "leave them out, or print only them",
    )
    tail.add_argument(
        "--from-beginning", action="store_true", help="start at the oldest retained event"
    )
    tail.add_argument("--max", type=int, metavar="N", help="exit after printing N events")
    tail.add_argument(
        "--timeout", type=float, metavar="S", help="exit after S seconds without a new event"
    )
    tail.add_argument("--topic", help="verdict topic (default: TOPIC_VERDICTS)")
    tail.set_defaults(handler=_tail)


def _tail(args: argparse.Namespace) -> int:
    settings, kafka = kafka_settings("verdicts tail")
    try:
        return asyncio.run(_follow(args, settings, kafka))
    except KeyboardInterrupt:
        return 130
    except KafkaError as exc:
        print(
            f"civicqc verdicts tail: Kafka at {settings.kafka_bootstrap_servers}: {exc}",
            file=sys.stderr,
        )
        return 2


def _wanted(event: VerdictEvent, args: argparse.Namespace) -> bool:
    if args.tenant and event.metadata.tenant not in args.tenant:
        return False
    if args.duplicates != "include" and (event.duplicate_of is not None) != (
        args.duplicates == "only"
    ):
        return False
    return not args.verdict or event.outcome.value in args.verdict


async def _follow(
    args: argparse.Namespace, settings: CommonSettings, kafka: KafkaConnection
) -> int:
    consumer = AIOKafkaConsumer(
        args.topic or settings.topic_verdicts,
        **kafka.options(),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if args.from_beginning else "latest",
    )
    printed = 0
    last_event = time.monotonic()
    try:
        # Started inside the try: a broker that can't be reached still gets its client
        # closed, or aiokafka prints "Unclosed AIOKafkaConsumer" under the one-line error.
        await consumer.start()
        while args.max is None or printed < args.max:
            batch = await consumer.getmany(timeout_ms=500)
            if batch:
                last_event = time.monotonic()
            elif args.timeout is not None and time.monotonic() - last_event > args.timeout:
                break
            for records in batch.values():
                for record in records:
                    try:
                        event = VerdictEvent.model_validate_json(record.value)
                    except ValidationError as exc:
                        print(
                            f"skipped offset {record.partition}:{record.offset}: "
                            f"{exc.error_count()} schema errors",
                            file=sys.stderr,
                        )
                        continue
                    if not _wanted(event, args):
                        continue
                    print(event.model_dump_json(), flush=True)
                    printed += 1
                    if args.max is not None and printed >= args.max:
                        return 0
    finally:
        await consumer.stop()
    return 0
