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

Exact copies: a record that carries the photo's ``sha256`` and ``rules`` (set only when its
bytes matched their event's digest) is indexed with a copy key, a 64-bit hash of both
(:func:`copy_key`), so :meth:`NearDuplicates.first_copy` finds the latest photo of the
tenant scored with those bytes and rules before a new one is scored: a photo seen for
the first time costs no object-store request. It has the same freshness and expiry as
the near-duplicate search, and costs 16 bytes a photo.

Expiry: the indexes keep a photo while it can still be matched, the search window plus
:data:`KEEP_MARGIN_S` (a day, so events scored late behind a backlog still find theirs;
the topic keeps the same 8 days), and forget older ones every ``prune_every_s`` of the
reader's loop; a record already older than that when it is read is not added at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer
from pydantic import ValidationError

from core.events import FingerprintRecord, ImageSubmitted, NearDuplicate
from core.similar import FingerprintIndex, Place, SearchRule

logger = logging.getLogger(__name__)

#: How often a replica looks for a fingerprint topic that does not exist (yet).
_TOPIC_CHECK_S = 30.0
#: How long past the search window a photo stays in the indexes.
KEEP_MARGIN_S = 86_400.0


class NearDuplicates:
    """Each tenant's index, and what a new photo is close to."""

    def __init__(
        self,
        rule: SearchRule,
        topic: str,
        *,
        prune_every_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock``: seconds since the epoch, the time photos expire against."""
        self._rule = rule
        self._indexes: dict[str, FingerprintIndex] = {}
        self._prune_every_s = prune_every_s
        self._clock = clock
        self.topic = topic
        #: Set once the topic is followed: until then verdicts list no near-duplicates.
        self.ready = asyncio.Event()

    def index_of(self, tenant: str) -> FingerprintIndex:
        """The tenant's index (a new, empty one the first time)."""
        index = self._indexes.get(tenant)
        if index is None:
            index = self._indexes[tenant] = FingerprintIndex()
        return index

    @property
    def fingerprints(self) -> int:
        """Photos held, all tenants together."""
        return sum(len(index) for index in self._indexes.values())

    def _horizon(self) -> float:
        """Photos submitted before this no event being scored now can match."""
        return self._clock() - self._rule.window_s - KEEP_MARGIN_S

    def expire(self) -> int:
        """Forget the photos past the horizon (and tenants left with none); how many."""
        horizon = self._horizon()
        gone = 0
        for tenant, index in list(self._indexes.items()):
            gone += index.prune(horizon)
            if not index:
                del self._indexes[tenant]
        return gone

    def record(
        self, event: ImageSubmitted, fingerprint: str, rules: str | None = None
    ) -> FingerprintRecord:
        """What the topic (and this replica's index) learns of a scored photo; ``rules``
        (the tag of what scored it) only when its bytes are known to match the event's
        digest, which the record then carries for the exact copies to come."""
        return FingerprintRecord(
            image_id=event.image_id,
            tenant=event.metadata.tenant,
            fingerprint=fingerprint,
            submitted_at=event.submitted_at,
            location=event.metadata.location,
            sha256=None if rules is None else event.object.sha256,
            rules=rules,
        )

    def remember(self, record: FingerprintRecord) -> None:
        """Add a photo to its tenant's index, unless it is already past the horizon."""
        at = _seconds(record.submitted_at)
        if at < self._horizon():
            return
        copy = 0
        if record.sha256 is not None and record.rules is not None:
            copy = copy_key(record.rules, record.sha256)
        self.index_of(record.tenant).add(
            record.image_id, int(record.fingerprint, 16), at, _place(record), copy
        )

    def first_copy(self, tenant: str, rules: str, sha256: str) -> str | None:
        """The latest photo of ``tenant`` scored with these bytes and ``rules``, by its copy
        key: the caller checks the verdict it finds is one on these bytes."""
        index = self._indexes.get(tenant)
        return None if index is None else index.copy_of(copy_key(rules, sha256))

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
        pruned_at = asyncio.get_running_loop().time()
        while True:
            batch = await consumer.getmany(timeout_ms=100)
            if not self.ready.is_set() and consumer.assignment():
                self.ready.set()
                logger.info("fingerprint topic followed", extra={"topic": self.topic})
            for records in batch.values():
                for record in records:
                    with contextlib.suppress(ValidationError):
                        self.remember(FingerprintRecord.model_validate_json(record.value))
            if asyncio.get_running_loop().time() - pruned_at >= self._prune_every_s:
                pruned_at = asyncio.get_running_loop().time()
                if gone := self.expire():
                    logger.info("fingerprints expired", extra={"count": gone})


def copy_key(rules: str, sha256: str) -> int:
    """A nonzero 64-bit hash of what makes two photos exact copies (bytes and rules)."""
    digest = hashlib.blake2b(f"{rules}\n{sha256}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") or 1


def _seconds(at: datetime) -> float:
    return at.timestamp()


def _place(record: FingerprintRecord) -> Place | None:
    location = record.location
    return Place(location.latitude, location.longitude) if location else None
