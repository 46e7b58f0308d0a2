"""An idempotent Kafka producer that starts over when it has lost its place in a sequence.

Why: an idempotent producer numbers the batches of each partition, and the broker takes
batch ``n + 1`` only after batch ``n``. aiokafka (0.14, aio-libs/aiokafka#1017) can skip
a number for good: a batch that waits longer than ``request_timeout_ms`` for a partition
leader, as every batch in flight does while a broker restarts, is failed with its number
already taken, and from then on the broker refuses every batch of that partition
(``OutOfOrderSequenceNumber``) until the process restarts. A broker that has forgotten
the producer (its state expired after a quiet day on that partition) refuses it likewise
(``UnknownProducerId``). The Java client bumps its epoch and renumbers; aiokafka has no
such call, so the way back is a new producer: a new producer id, every sequence from 0.

The broker refused the batch, so nothing of it was written: sending the same message
again on the new producer cannot duplicate it. The old producer is stopped in the
background, so what it still holds for other partitions is flushed, not dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, OutOfOrderSequenceNumber, UnknownProducerId

logger = logging.getLogger(__name__)

#: What the broker answers a producer whose sequence it can no longer follow.
SEQUENCE_LOST: tuple[type[KafkaError], ...] = (OutOfOrderSequenceNumber, UnknownProducerId)


class RenewalFailed(Exception):  # noqa: N818 - a state, as the callers' own errors
    """No new producer could be started (Kafka unreachable, or not in time)."""


class RenewableProducer:
    """Holds the producer in use, and replaces it once for each time its sequence is lost.

    ``factory`` builds an unstarted producer with the caller's settings. ``current`` is
    ``None`` until one is started (:meth:`start`, or :meth:`adopt` of one the caller
    started itself).
    """

    def __init__(self, factory: Callable[[], AIOKafkaProducer], *, start_timeout_s: float) -> None:
        self._factory = factory
        self._start_timeout_s = start_timeout_s
        self.current: AIOKafkaProducer | None = None
        self.renewals = 0
        self._lock = asyncio.Lock()
        self._retiring: set[asyncio.Task[None]] = set()

    def new(self) -> AIOKafkaProducer:
        """An unstarted producer from the factory."""
        return self._factory()

    def adopt(self, producer: AIOKafkaProducer) -> None:
        """Use ``producer``, already started by the caller."""
        self.current = producer

    async def start(self) -> AIOKafkaProducer:
        producer = self._factory()
        try:
            await producer.start()
        except BaseException:
            await producer.stop()  # what it opened before failing
            raise
        self.current = producer
        return producer

    async def renew(self, broken: AIOKafkaProducer) -> AIOKafkaProducer:
        """The producer to send with instead of ``broken``, which lost its sequence.

        Callers that saw the same producer fail at once get one new producer between
        them: only the first replaces it. Raises :class:`RenewalFailed` when none starts
        within ``start_timeout_s``, or once :meth:`stop` was called.
        """
        async with self._lock:
            if self.current is None:
                raise RenewalFailed("the Kafka producer is stopped")
            if self.current is not broken:
                return self.current
            fresh = self._factory()
            try:
                async with asyncio.timeout(self._start_timeout_s):
                    await fresh.start()
            except (KafkaError, TimeoutError) as exc:
                await fresh.stop()
                raise RenewalFailed(f"no new Kafka producer could start: {exc!r}") from exc
            except asyncio.CancelledError:  # the caller's own deadline
                await fresh.stop()
                raise
            self.current = fresh
            self.renewals += 1
            retiring = asyncio.create_task(broken.stop(), name="kafka-producer-retire")
            self._retiring.add(retiring)
            retiring.add_done_callback(self._retired)
        logger.warning(
            "Kafka refused the producer's sequence; sending with a new producer",
            extra={"renewals": self.renewals},
        )
        return fresh

    def _retired(self, task: asyncio.Task[None]) -> None:
        self._retiring.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("a replaced Kafka producer stopped with %r", task.exception())

    async def stop(self) -> None:
        """Stop the producer in use and wait for the replaced ones to finish stopping."""
        if self.current is not None:
            await self.current.stop()
            self.current = None
        for task in list(self._retiring):
            with contextlib.suppress(Exception):
                await task
