"""One retry policy for every step of an event: wait out outages, bound crashes, let go on demand.

Failures are sorted by whether waiting can fix them. An object store or a Kafka
cluster that does not answer is the same outage for every event, so those steps are
retried with capped exponential backoff for as long as it lasts (the in-flight bound
keeps the rest of the partition waiting). A scoring worker that dies may have died of
the event's bytes, so that is retried a bounded number of times and then given up
(:class:`GaveUpError`, which the pipeline dead-letters).

Every wait ends early when the event's :class:`~consumer.claim.Claim` is released
(SIGTERM, or the partition revoked): the step raises :class:`AbandonedError` and the
event stays uncommitted, to be redone by whoever owns the partition next.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from prometheus_client import Counter

from consumer.claim import Claim
from consumer.publisher import PublishUnavailableError
from consumer.scoring import WorkerCrashedError
from core.events import DeadLetterReason
from runtime.object_store import StorageUnavailableError

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Failures that are the same for every event: waited out, never counted against one.
OUTAGES = (StorageUnavailableError, PublishUnavailableError)


class GaveUpError(Exception):
    """Retrying one event ran out, or cannot help: the event is dead-lettered."""

    def __init__(self, reason: DeadLetterReason, attempts: int, cause: Exception) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.reason = reason
        self.attempts = attempts


class AbandonedError(Exception):
    """The event's claim was released while it waited: it is left uncommitted, to be redone."""


class RetryPolicy:
    """Backoff ``backoff_s * 2**(attempt-1)`` capped at ``backoff_max_s``; ``max_retries``
    retries of a step whose scoring worker crashed."""

    def __init__(
        self, *, backoff_s: float, backoff_max_s: float, max_retries: int, retries: Counter
    ) -> None:
        self._backoff_s = backoff_s
        self._backoff_max_s = backoff_max_s
        self._max_retries = max_retries
        self._retries = retries
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """End every current wait early, so each waiter re-checks its claim."""
        self._wake.set()
        self._wake = asyncio.Event()

    async def call(self, operation: str, step: Callable[[], Awaitable[T]], claim: Claim) -> T:
        """``step()``, retried through outages and up to ``max_retries`` worker crashes."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return await step()
            except OUTAGES as exc:
                await self.pause(operation, attempt, exc, claim)
            except WorkerCrashedError as exc:
                if attempt > self._max_retries:
                    raise GaveUpError(DeadLetterReason.WORKER_CRASHED, attempt, exc) from exc
                await self.pause(operation, attempt, exc, claim)

    async def pause(self, operation: str, attempt: int, exc: Exception, claim: Claim) -> None:
        """Sleep the backoff of ``attempt``; raise :class:`AbandonedError` instead when the
        claim is released, before or during the sleep."""
        if not claim.held:
            raise AbandonedError(operation) from exc
        self._retries.labels(operation).inc()
        logger.warning(
            "transient failure, retrying",
            extra={"operation": operation, "attempt": attempt, "error": repr(exc)},
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=self.backoff_s(attempt))
        if not claim.held:
            raise AbandonedError(operation) from exc

    def backoff_s(self, attempt: int) -> float:
        return float(min(self._backoff_max_s, self._backoff_s * 2 ** (attempt - 1)))
