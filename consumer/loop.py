"""The loop of one replica: poll, hand events to tasks, commit, follow rebalances.

Shaped like aiokafka's examples: auto-commit off, ``getmany`` in batches no larger
than the free in-flight slots, offsets tracked explicitly and committed per partition
up to the contiguous prefix of done events (:mod:`consumer.offsets`), a small
rebalance listener. What happens to one event is :mod:`consumer.pipeline`'s business;
the loop only learns how its task ended:

- returned: the event is *done* (verdict or dead letter published); its offset may be
  committed;
- :class:`~consumer.retry.AbandonedError`: its claim was released while it waited out
  an outage; the offset stays uncommitted and the event is redone;
- anything else is a bug: the replica stops without committing that offset.

*Draining* is waiting, bounded, for tasks to end: every task on SIGTERM (late ones are
then cancelled), a revoked partition's tasks in a rebalance (never cancelled: the work
is idempotent and only its offset is lost).

Every commit carries the partition's *horizon* (:mod:`consumer.horizon`), and no event
starts past the horizon committed: events the group never started before skip the
stored-verdict lookup.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Coroutine, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord, TopicPartition

from consumer import horizon
from consumer.claim import Claim
from consumer.commits import CommittedOffsets
from consumer.horizon import Horizon
from consumer.lag import LagReporter
from consumer.retry import AbandonedError, RetryPolicy

logger = logging.getLogger(__name__)

#: How long the loop waits before fetching again events it could not take (their horizon
#: was not committed): a rebalance is usually under way.
_HORIZON_RETRY_S = 0.5

#: The pipeline's entry point: returns once the event is done.
Handler = Callable[[ConsumerRecord, Claim], Coroutine[Any, Any, None]]


class ConsumerLoop:
    """Keeps at most ``max_in_flight`` events in flight and commits what is done."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        commits: CommittedOffsets,
        handle: Handler,
        policy: RetryPolicy,
        lag: LagReporter,
        *,
        max_in_flight: int,
        commit_interval_s: float,
        drain_timeout_s: float,
    ) -> None:
        self._consumer = consumer
        self._commits = commits
        self._handle = handle
        self._policy = policy
        self._lag = lag
        self._max_in_flight = max_in_flight
        self._commit_interval_s = commit_interval_s
        self._drain_timeout_s = drain_timeout_s
        self._claims: dict[TopicPartition, Claim] = {}
        self._tasks: dict[asyncio.Task[None], tuple[Claim, int]] = {}
        self._fatal: BaseException | None = None
        self._stopping = False
        self._last_commit = 0.0

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def rebalance_listener(self) -> ConsumerRebalanceListener:
        return _RebalanceListener(self)

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set, then drain in-flight work and commit it."""
        lag = asyncio.create_task(self._lag.report_routine())
        try:
            while not stop.is_set() and self._fatal is None:
                await self._poll_once()
            await self._drain_and_commit()
        finally:
            lag.cancel()
        if self._fatal is not None:
            raise self._fatal

    async def _poll_once(self) -> None:
        free = self._max_in_flight - len(self._tasks)
        if free <= 0:
            self._consumer.pause(*self._consumer.assignment())
            await asyncio.wait(self._tasks, timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
        else:
            if paused := self._consumer.paused():
                self._consumer.resume(*paused)
            batch = await self._consumer.getmany(timeout_ms=200, max_records=free)
            for tp, records in batch.items():
                await self._take(tp, records)
        if time.monotonic() - self._last_commit >= self._commit_interval_s:
            self._last_commit = time.monotonic()
            await self._commit(self._claims.values())

    async def _take(self, tp: TopicPartition, records: list[ConsumerRecord]) -> None:
        claim = self._claims.get(tp)
        if claim is None:  # revoked while the batch was on its way
            return
        reserved = await self._reserve(claim, records[0].offset, records[-1].offset)
        if self._claims.get(tp) is not claim or not claim.held:
            return  # revoked meanwhile: the partition's next owner does them
        if not reserved:
            self._consumer.seek(tp, records[0].offset)  # fetched again, taken once reserved
            await asyncio.sleep(_HORIZON_RETRY_S)
            return
        for record in records:
            claim.offsets.take(record.offset)
            task = asyncio.create_task(self._handle(record, claim))
            self._tasks[task] = (claim, record.offset)
            task.add_done_callback(self._on_task_end)

    async def _reserve(self, claim: Claim, first: int, last: int) -> bool:
        """Make sure a committed horizon lies past ``last`` before events up to it start;
        False when it could not be read or committed (the events wait)."""
        tp = claim.partition
        try:
            if claim.horizon is None:
                claim.horizon = await self._read_horizon(tp)
            if claim.horizon.covers(last):
                return True
            point = claim.offsets.commit_point(first)
            ahead = claim.horizon.ahead_of(last)
            await self._consumer.commit({tp: (point, horizon.encode(ahead))})
        except KafkaError as exc:
            logger.warning(
                "horizon not committed", extra={"partition": _names([tp])[0], "error": repr(exc)}
            )
            return False
        claim.horizon.committed(ahead)
        claim.offsets.committed(point)
        return True

    async def _read_horizon(self, tp: TopicPartition) -> Horizon:
        """The horizon the partition's previous owner committed, else the log's end."""
        found = await self._commits.read([tp])  # with the metadata ``committed()`` drops
        committed = horizon.decode(found[tp].metadata if tp in found else None)
        if committed is not None:
            return Horizon(committed)
        ends = await self._consumer.end_offsets([tp])
        return Horizon(int(ends[tp]))

    def _on_task_end(self, task: asyncio.Task[None]) -> None:
        claim, offset = self._tasks.pop(task)
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, AbandonedError):
            return
        if exc is not None:
            logger.error("event handler failed", exc_info=exc)
            self._fatal = self._fatal or exc
            return
        claim.offsets.done(offset)

    async def _drain_and_commit(self) -> None:
        logger.info("stopping: draining in-flight work", extra={"inflight": len(self._tasks)})
        self._stopping = True
        self._release(self._claims.values())
        late = await self._drain(self._tasks)
        for task in late:
            task.cancel()
        if late:
            logger.warning("gave up waiting for in-flight work", extra={"abandoned": len(late)})
            await asyncio.wait(late)
        await self._commit(self._claims.values())

    async def _drain(self, tasks: Collection[asyncio.Task[None]]) -> set[asyncio.Task[None]]:
        """Wait up to ``drain_timeout_s`` for ``tasks`` to end; those still running."""
        if not tasks:
            return set()
        _ended, late = await asyncio.wait(list(tasks), timeout=self._drain_timeout_s)
        return late

    def _release(self, claims: Iterable[Claim]) -> None:
        for claim in claims:
            claim.release()
        self._policy.wake()

    async def _commit(self, claims: Iterable[Claim]) -> None:
        ready = {c.partition: (c, n) for c in claims if (n := c.offsets.to_commit()) is not None}
        if not ready:
            return
        try:
            await self._consumer.commit({tp: (n, _metadata(c)) for tp, (c, n) in ready.items()})
        except KafkaError as exc:
            # Any commit failure only means a redelivery later; the next commit retries.
            logger.warning("offset commit failed", extra={"error": repr(exc)})
            return
        for claim, n in ready.values():
            claim.offsets.committed(n)

    async def revoke(self, revoked: set[TopicPartition]) -> None:
        """Drain revoked partitions' work (bounded), commit it, forget the partitions."""
        claims = [self._claims[tp] for tp in revoked if tp in self._claims]
        self._release(claims)
        if not self._stopping:
            await self._drain([t for t, (c, _n) in self._tasks.items() if c in claims])
        await self._commit(claims)
        for tp in revoked:
            self._claims.pop(tp, None)
        logger.info("partitions revoked", extra={"partitions": _names(revoked)})

    def assign(self, assigned: set[TopicPartition]) -> None:
        for tp in assigned:
            self._claims[tp] = Claim(tp)
        self._lag.keep_only(assigned)
        logger.info("partitions assigned", extra={"partitions": _names(assigned)})


class _RebalanceListener(ConsumerRebalanceListener):  # type: ignore[misc]
    """aiokafka calls these around every rebalance, inside ``getmany``."""

    def __init__(self, loop: ConsumerLoop) -> None:
        self._loop = loop

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._loop.revoke(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._loop.assign(assigned)


def _metadata(claim: Claim) -> str:
    """What a commit of ``claim``'s partition carries: its horizon (none: not read yet)."""
    return "" if claim.horizon is None else horizon.encode(claim.horizon.announced)


def _names(partitions: Iterable[TopicPartition]) -> list[str]:
    return sorted(f"{tp.topic}[{tp.partition}]" for tp in partitions)
