"""Near-duplicates across replicas: a compacted fingerprint topic read into in-memory indexes.

Every replica publishes each scored photo's fingerprint to ``TOPIC_FINGERPRINTS`` (key =
image id, compacted) and reads the whole topic, from its start and then as it grows, into
one :class:`core.similar.FingerprintIndex` per tenant. A verdict lists the earlier photos
of its tenant whose fingerprints are close (:class:`core.similar.SearchRule`): information
for the clerk, never a rejection.

Freshness: a replica knows its own photos at once and another replica's a poll after that
replica published them (the reader polls every 100 ms; well under a second on a healthy
broker). Two near copies scored at the same moment by two replicas may therefore miss each
other. A restarted replica reads the topic again before it knows the older photos; it
scores meanwhile, so verdicts in its first seconds may list fewer matches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer
from pydantic import ValidationError

from core.events import FingerprintRecord, ImageSubmitted, NearDuplicate
from core.similar import FingerprintIndex, Place, SearchRule

logger = logging.getLogger(__name__)

#: How often a replica looks for a fingerprint topic that does not exist (yet).
_TOPIC_CHECK_S = 30.0


class NearDuplicates:
    """Each tenant's index, and what a new photo is close to."""

    def __init__(self, rule: SearchRule, topic: str) -> None:
        self._rule = rule
        self._indexes: dict[str, FingerprintIndex] = {}
        #: Keys of records this replica published and has not read back yet: it knows them.
        self._own: set[bytes] = set()
        self.topic = topic
        #: Set once the topic is followed: until then verdicts list no near-duplicates.
        self.ready = asyncio.Event()

    def record(self, event: ImageSubmitted, fingerprint: str) -> FingerprintRecord:
        """What the topic (and this replica's index) learns of a scored photo."""
        return FingerprintRecord(
            image_id=event.image_id,
            tenant=event.metadata.tenant,
            fingerprint=fingerprint,
            submitted_at=event.submitted_at,
            location=event.metadata.location,
        )

    def share(self, event: ImageSubmitted, fingerprint: str) -> tuple[bytes, bytes]:
        """Remember a photo scored here (known at once) and the message that tells the
        other replicas: its key and value for :attr:`topic`."""
        record = self.record(event, fingerprint)
        self.remember(record)
        key = event.image_id.encode()
        self._own.add(key)
        return key, record.model_dump_json().encode()

    def remember(self, record: FingerprintRecord) -> None:
        index = self._indexes.get(record.tenant)
        if index is None:  # not setdefault: a new index allocates its columns
            index = self._indexes[record.tenant] = FingerprintIndex()
        index.add(
            record.image_id,
            int(record.fingerprint, 16),
            _seconds(record.submitted_at),
            _place(record),
        )

    def matches(self, event: ImageSubmitted, fingerprint: str) -> list[NearDuplicate]:
        """Earlier photos of the event's tenant close to ``fingerprint``."""
        index = self._indexes.get(event.metadata.tenant)
        if index is None:
            return []
        location = event.metadata.location
        place = Place(location.latitude, location.longitude) if location else None
        found = index.search(int(fingerprint, 16), _seconds(event.submitted_at), place, self._rule)
        return [
            NearDuplicate(
                image_id=m.image_id,
                distance=m.distance,
                submitted_at=datetime.fromtimestamp(m.at, UTC),
            )
            for m in found
            if m.image_id != event.image_id
        ]

    async def follow(self, consumer: AIOKafkaConsumer) -> None:
        """Read the topic from its start into the indexes until cancelled (``consumer`` is
        started, has no group and reads from the earliest offset). ``ready`` is set once
        its partitions are assigned: until the topic exists, near-duplicate search is off."""
        while True:
            if self.topic in await consumer.topics():
                break
            await asyncio.sleep(_TOPIC_CHECK_S)
        consumer.subscribe([self.topic])
        while True:
            batch = await consumer.getmany(timeout_ms=100)
            if not self.ready.is_set() and consumer.assignment():
                self.ready.set()
                logger.info("fingerprint topic followed", extra={"topic": self.topic})
            for records in batch.values():
                for record in records:
                    if record.key in self._own:  # ours, read back: already remembered
                        self._own.discard(record.key)
                        continue
                    with contextlib.suppress(ValidationError):
                        self.remember(FingerprintRecord.model_validate_json(record.value))


def _seconds(at: datetime) -> float:
    return at.timestamp()


def _place(record: FingerprintRecord) -> Place | None:
    location = record.location
    return Place(location.latitude, location.longitude) if location else None
