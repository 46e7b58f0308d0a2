"""Consumer lag per owned partition, read from the broker every ``lag_interval_s``.

Lag is the partition's end offset minus the group's committed offset: what a replica
still owes, including work in flight. Partitions this replica no longer owns lose
their series, so a rebalance never leaves a stale gauge behind.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Set

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition
from prometheus_client import Gauge

from consumer.commits import CommittedOffsets

logger = logging.getLogger(__name__)


class LagReporter:
    """Keeps ``civicqc_consumer_lag_messages`` current for the partitions ``consumer`` owns."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        commits: CommittedOffsets,
        gauge: Gauge,
        interval_s: float,
    ) -> None:
        self._consumer = consumer
        self._commits = commits
        self._gauge = gauge
        self._interval_s = interval_s
        self._labelled: set[TopicPartition] = set()

    async def report_routine(self) -> None:
        """Report forever; the loop cancels it when it ends."""
        while True:
            await asyncio.sleep(self._interval_s)
            await self.report()

    async def report(self) -> None:
        owned = list(self._consumer.assignment())
        if not owned:
            return
        try:
            ends = await self._consumer.end_offsets(owned)
            found = await self._commits.read(owned)  # one request for all owned partitions
            for tp in owned:
                committed = max(0, found[tp].offset) if tp in found else 0
                self._gauge.labels(tp.topic, str(tp.partition)).set(max(0, ends[tp] - committed))
                self._labelled.add(tp)
        except KafkaError as exc:
            logger.warning("could not read consumer lag", extra={"error": repr(exc)})

    def keep_only(self, owned: Set[TopicPartition]) -> None:
        """Drop the series of partitions no longer owned."""
        for tp in self._labelled - owned:
            self._gauge.remove(tp.topic, str(tp.partition))
        self._labelled &= owned
