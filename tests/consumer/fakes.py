"""In-memory fakes of the pipeline's ports (consumer.pipeline.Store, Scorer, Publisher).

They keep the real contracts: a missing key raises ObjectMissingError, an object over
a read's bound ObjectTooLargeError, an outage raises the adapter's typed error, the
scorer runs the real ``core.score`` in-process.
Each can be told to fail a number of times, or until released.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from consumer.publisher import PublishUnavailableError
from consumer.scoring import Scored, WorkerCrashedError
from core import Rules, score, score_pair
from core.profiles import builtin_profile
from runtime.object_store import ObjectMissingError, ObjectTooLargeError, StorageUnavailableError


@dataclass
class FakeStore:
    objects: dict[str, bytes] = field(default_factory=dict)
    #: Each object's tags (S3 keeps them with the object: a delete drops them).
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Calls that answer StorageUnavailableError before the store comes back.
    outage_calls: int = 0
    calls: list[str] = field(default_factory=list)
    #: The SHA-256 an uploader kept with an object (S3 user metadata), by key.
    vouched: dict[str, str] = field(default_factory=dict)

    def _answer(self, operation: str, key: str) -> None:
        self.calls.append(f"{operation} {key}")
        if self.outage_calls > 0:
            self.outage_calls -= 1
            raise StorageUnavailableError("connection refused")

    async def fetch(self, key: str) -> bytes:
        self._answer("fetch", key)
        if key not in self.objects:
            raise ObjectMissingError(key)
        return self.objects[key]

    async def fetch_vouched(
        self, key: str, *, max_bytes: int | None = None
    ) -> tuple[bytes, str | None]:
        data = await self.fetch(key)
        if max_bytes is not None and len(data) > max_bytes:
            raise ObjectTooLargeError(key, max_bytes, len(data))
        return data, self.vouched.get(key)

    async def tag(self, key: str, tags: Mapping[str, str]) -> None:
        self._answer("tag", key)
        if key not in self.objects:
            raise ObjectMissingError(key)
        self.tags[key] = dict(tags)

    async def copy(self, source: str, target: str, tags: Mapping[str, str] | None = None) -> None:
        self._answer("copy", source)
        if source not in self.objects:
            raise ObjectMissingError(source)
        self.objects[target] = self.objects[source]
        self.tags[target] = dict(tags) if tags is not None else self.tags.get(source, {})

    async def put(
        self, key: str, data: bytes, content_type: str, tags: Mapping[str, str] | None = None
    ) -> None:
        self._answer("put", key)
        self.objects[key] = data
        self.tags[key] = dict(tags or {})

    async def delete(self, key: str) -> None:
        self._answer("delete", key)
        self.objects.pop(key, None)
        self.tags.pop(key, None)


@dataclass
class FakePublisher:
    sent: list[tuple[str, bytes | None, bytes]] = field(default_factory=list)
    #: Publishes that answer PublishUnavailableError; -1: every one.
    outage_calls: int = 0
    #: Topics whose every publish answers PublishUnavailableError.
    down_topics: set[str] = field(default_factory=set)

    async def publish(self, topic: str, key: bytes | None, value: bytes) -> None:
        if topic in self.down_topics:
            raise PublishUnavailableError(f"{topic} not available")
        if self.outage_calls != 0:
            self.outage_calls -= 1 if self.outage_calls > 0 else 0
            raise PublishUnavailableError("broker not available")
        self.sent.append((topic, key, value))

    def on(self, topic: str) -> list[bytes]:
        return [value for t, _k, value in self.sent if t == topic]


@dataclass
class InlineScorer:
    """The real engine, in this process; ``crashes`` calls first die as a worker would."""

    crashes: int = 0
    calls: int = 0
    #: Profiles by name beside the built-ins (candidates of shadow tests).
    profiles: dict[str, Rules] = field(default_factory=dict)
    #: The candidate profile each call named (None: not shadowed).
    shadows: list[str | None] = field(default_factory=list)

    async def score(
        self, data: bytes, profile: str, image_id: str, shadow: str | None = None
    ) -> Scored:
        self.calls += 1
        self.shadows.append(shadow)
        if self.crashes > 0:
            self.crashes -= 1
            raise WorkerCrashedError("worker killed")
        if shadow is None:
            return Scored(score(data, self._rules(profile), image_id=image_id), None)
        live, candidate = score_pair(
            data, self._rules(profile), self._rules(shadow), image_id=image_id
        )
        return Scored(live, None, candidate)

    def _rules(self, name: str) -> Rules:
        return self.profiles[name] if name in self.profiles else builtin_profile(name)
