"""Fleet-wide verdict counts for ``GET /v1/summary``, correct with any number of replicas.

Per-process counters would only see this replica's share of the work, so instead
each API replica reads the *whole* verdict topic itself: a consumer without a
group (every replica gets every partition), positioned at ``offsets_for_times(now
- window)`` at startup, feeding a tally of per-minute counts. All replicas read
the same log, so they converge on the same answer, and a restarted replica
rebuilds its state from the topic. Verdicts are de-duplicated by image id, because
at-least-once delivery may publish one image's verdict twice.

Memory is one small entry per image scored in the window (about 100 bytes), which
is a few tens of MB at the reference system's volumes.

CPU: every replica reads every verdict, so the per-verdict cost is multiplied by the
replica count (docs/CAPACITY.md). Fetches wait for ``_FETCH_MIN_BYTES`` or
``_FETCH_MAX_WAIT_MS``, whichever comes first, instead of returning each verdict as
it lands (the summary is then at most half a second behind), and only the four
fields the tally counts are validated.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition
from pydantic import BaseModel, ConfigDict, ValidationError

from core.schema import Outcome
from producer_api.schemas import OutcomeCounts, WindowSummary
from runtime.kafka_connection import KafkaConnection

logger = logging.getLogger(__name__)

BUCKET_S = 60
HOUR_S = 3600
DAY_S = 24 * 3600
_RESTART_BACKOFF_S = 2.0
#: About ten verdict events; see the module docstring.
_FETCH_MIN_BYTES = 32 * 1024
_FETCH_MAX_WAIT_MS = 500


class _Tenant(BaseModel):
    model_config = ConfigDict(frozen=True)
    tenant: str


class _Counted(BaseModel):
    """What the tally reads of a ``VerdictEvent`` (:class:`core.events.VerdictEvent`); its
    other fields are parsed over, not validated (a fraction of the full model's cost)."""

    model_config = ConfigDict(frozen=True)
    image_id: str
    scored_at: datetime
    metadata: _Tenant
    outcome: Outcome


class VerdictTally:
    """Verdict counts per minute, tenant and outcome; each image counted once."""

    def __init__(self, window_s: int = DAY_S) -> None:
        self._window_buckets = window_s // BUCKET_S
        self._seen: dict[str, int] = {}
        self._buckets: dict[int, Counter[tuple[str, Outcome]]] = defaultdict(Counter)
        self._ids_by_bucket: dict[int, list[str]] = defaultdict(list)

    def add(self, image_id: str, tenant: str, outcome: Outcome, at: datetime, now: float) -> bool:
        """Count one verdict; False when the image was already counted or is out of window."""
        bucket = int(at.timestamp()) // BUCKET_S
        if image_id in self._seen or bucket < self._oldest_bucket(now):
            return False
        self._seen[image_id] = bucket
        self._buckets[bucket][(tenant, outcome)] += 1
        self._ids_by_bucket[bucket].append(image_id)
        return True

    def evict(self, now: float) -> None:
        """Forget buckets that left the window (and their ids, so memory stays bounded)."""
        oldest = self._oldest_bucket(now)
        for bucket in [b for b in self._buckets if b < oldest]:
            del self._buckets[bucket]
            for image_id in self._ids_by_bucket.pop(bucket, ()):
                self._seen.pop(image_id, None)

    def window(self, now: float, seconds: int) -> WindowSummary:
        since = int(now) // BUCKET_S - seconds // BUCKET_S + 1
        totals: Counter[Outcome] = Counter()
        per_tenant: dict[str, Counter[Outcome]] = defaultdict(Counter)
        for bucket, counts in self._buckets.items():
            if bucket < since:
                continue
            for (tenant, outcome), n in counts.items():
                totals[outcome] += n
                per_tenant[tenant][outcome] += n
        overall = _counts(totals)
        return WindowSummary(
            **overall.model_dump(),
            by_tenant={tenant: _counts(c) for tenant, c in sorted(per_tenant.items())},
        )

    def _oldest_bucket(self, now: float) -> int:
        return int(now) // BUCKET_S - self._window_buckets + 1


def _counts(counter: Counter[Outcome]) -> OutcomeCounts:
    total = sum(counter.values())
    accepted = counter[Outcome.ACCEPTED]
    return OutcomeCounts(
        total=total,
        accepted=accepted,
        rejected=counter[Outcome.REJECTED],
        error=counter[Outcome.ERROR],
        acceptance_rate=None if total == 0 else accepted / total,
    )


class VerdictFollower:
    """Reads every partition of the verdict topic into a :class:`VerdictTally`, forever."""

    def __init__(
        self,
        kafka: KafkaConnection,
        topic: str,
        tally: VerdictTally,
        *,
        client_id: str,
        window_s: int = DAY_S,
    ) -> None:
        self._kafka = kafka
        self._topic = topic
        self.tally = tally
        self._client_id = client_id
        self._window_s = window_s
        #: True once the records that existed at startup have all been read.
        self.complete = False
        self.polled_at: datetime | None = None

    async def run(self) -> None:
        """Follow the topic; on a Kafka error start over (the tally de-duplicates the re-read)."""
        while True:
            try:
                await self._follow()
            except KafkaError as exc:
                logger.warning("verdict follower restarting after Kafka error: %r", exc)
                await asyncio.sleep(_RESTART_BACKOFF_S)

    async def _follow(self) -> None:
        consumer = AIOKafkaConsumer(
            **self._kafka.options(),
            client_id=self._client_id,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            request_timeout_ms=5000,
            fetch_min_bytes=_FETCH_MIN_BYTES,
            fetch_max_wait_ms=_FETCH_MAX_WAIT_MS,
        )
        try:
            partitions = await self._partitions()
            await consumer.start()
            consumer.assign(partitions)
            since_ms = int((time.time() - self._window_s) * 1000)
            # End offsets first, as concrete numbers: a lazy seek_to_end() would resolve later
            # and skip verdicts published in between.
            targets: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
            starts = await consumer.offsets_for_times({tp: since_ms for tp in partitions})
            for tp in partitions:
                found = starts.get(tp)
                consumer.seek(tp, targets[tp] if found is None else found.offset)
            while True:
                batches = await consumer.getmany(timeout_ms=1000, max_records=2000)
                now = time.time()
                for records in batches.values():
                    for record in records:
                        self._ingest(record.value, now)
                self.polled_at = datetime.fromtimestamp(now, tz=UTC)
                self.tally.evict(now)
                if not self.complete:
                    positions = {tp: await consumer.position(tp) for tp in partitions}
                    self.complete = all(positions[tp] >= targets[tp] for tp in partitions)
                    if self.complete:
                        logger.info("verdict follower caught up on %s", self._topic)
        finally:
            await consumer.stop()

    async def _partitions(self) -> list[TopicPartition]:
        """The topic's partitions, from a metadata request of the public admin client: a
        group-less consumer knows them only for topics its client already tracks."""
        admin = AIOKafkaAdminClient(
            **self._kafka.options(), client_id=self._client_id, request_timeout_ms=5000
        )
        await admin.start()
        try:
            while True:
                described = await admin.describe_topics([self._topic])
                ids = sorted(
                    p["partition"]
                    for topic in described
                    if topic["topic"] == self._topic and topic["error_code"] == 0
                    for p in topic["partitions"]
                )
                if ids:
                    return [TopicPartition(self._topic, p) for p in ids]
                logger.warning("topic %s has no partitions yet; waiting", self._topic)
                await asyncio.sleep(_RESTART_BACKOFF_S)
        finally:
            await admin.close()

    def _ingest(self, value: bytes | None, now: float) -> None:
        if value is None:
            return
        try:
            event = _Counted.model_validate_json(value)
        except ValidationError as exc:
            logger.warning("skipping a verdict event that does not validate: %s", exc)
            return
        self.tally.add(event.image_id, event.metadata.tenant, event.outcome, event.scored_at, now)
