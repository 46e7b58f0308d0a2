"""The per-event pipeline on in-memory fakes of its ports: what each step leaves behind.

The same paths run against real Kafka and S3 in test_main.py and tests/e2e; here each
failure can be placed exactly, and nothing needs a broker.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord, TopicPartition
from prometheus_client import CollectorRegistry

from consumer.claim import Claim
from consumer.duplicates import ExactDuplicates
from consumer.horizon import Horizon
from consumer.metrics import ConsumerMetrics
from consumer.near import NearDuplicates
from consumer.pipeline import EventPipeline
from consumer.retry import AbandonedError, RetryPolicy
from consumer.settings import ConsumerSettings
from core import error_verdict
from core.events import (
    DeadLetter,
    FingerprintRecord,
    ImageSubmitted,
    SubmissionMetadata,
    VerdictEvent,
)
from core.profiles import builtin_profile
from core.schema import ErrorCode, Outcome
from core.similar import SearchRule
from runtime.ids import new_image_id
from runtime.layout import current_key, incoming_key, verdict_key, verdict_tags
from runtime.object_store import StorageUnavailableError
from runtime.rulebook import load_rulebook
from tests.builders import images
from tests.builders.refs import jpeg_ref
from tests.consumer.fakes import FakePublisher, FakeStore, InlineScorer

VERDICTS, DLQ = "verdicts", "dlq"
PARTITION = TopicPartition("submitted", 0)


@cache
def photo() -> bytes:
    return images.encode(images.sharp_photo(800, 600), quality=90)


class Rig:
    """A pipeline on fakes, with a fresh registry and a held claim."""

    def __init__(self, store: FakeStore | None = None, **settings: object) -> None:
        defaults: dict[str, object] = {
            "topic_verdicts": VERDICTS,
            "topic_dlq": DLQ,
            "retry_backoff": 0.01,
            "retry_backoff_max": 0.02,
            "missing_object_grace_s": 0.2,
            "max_retries": 2,
            "s3_bucket": "b",
        }
        self.settings = ConsumerSettings.model_validate({**defaults, **settings})
        self.registry = CollectorRegistry()
        metrics = ConsumerMetrics(self.registry)
        self.store, self.publisher, self.scorer = (
            store or FakeStore(),
            FakePublisher(),
            InlineScorer(),
        )
        self.policy = RetryPolicy(
            backoff_s=self.settings.retry_backoff,
            backoff_max_s=self.settings.retry_backoff_max,
            max_retries=self.settings.max_retries,
            retries=metrics.retries,
        )
        self.rulebook = load_rulebook(self.settings)
        self.pipeline = EventPipeline(
            self.settings,
            metrics,
            self.store,
            self.scorer,
            self.publisher,
            self.policy,
            self.rulebook,
        )
        self.claim = Claim(PARTITION)

    def submitted(
        self,
        data: bytes | None = None,
        *,
        key: str = "",
        bucket: str = "b",
        tenant: str = "default",
    ) -> ImageSubmitted:
        """An event whose object is stored (unless ``data`` is None)."""
        image_id = new_image_id()
        key = key or incoming_key(image_id, "jpg")
        if data is not None:
            self.store.objects[key] = data
        return ImageSubmitted(
            image_id=str(image_id),
            submitted_at=datetime.now(UTC),
            object=jpeg_ref(key, bucket=bucket, size_bytes=len(data or b"")),
            metadata=SubmissionMetadata(tenant=tenant),
        )

    async def handle(self, value: bytes, offset: int = 0) -> None:
        record = ConsumerRecord(
            PARTITION.topic, 0, offset, 0, 0, b"k", value, None, 1, len(value), ()
        )
        await self.pipeline.handle(record, self.claim)

    def sample(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0

    def extended(self, **parts: Any) -> Rig:
        """This rig, its pipeline rebuilt with ``parts`` (``duplicates``, ``near``, ``shadow``)."""
        self.pipeline = EventPipeline(
            self.settings,
            self.pipeline._metrics,
            self.store,
            self.scorer,
            self.publisher,
            self.policy,
            self.rulebook,
            **parts,
        )
        return self

    def letters(self) -> list[DeadLetter]:
        return [DeadLetter.model_validate_json(v) for v in self.publisher.on(DLQ)]


async def test_a_photo_is_tagged_where_it_lies_its_verdict_stored_and_published() -> None:
    rig = Rig()
    event = rig.submitted(photo())
    await rig.handle(event.model_dump_json().encode())

    (body,) = rig.publisher.on(VERDICTS)
    published = VerdictEvent.model_validate_json(body)
    assert published.image_id == event.image_id
    outcome = published.outcome
    assert outcome is not Outcome.ERROR
    assert published.object.key == event.object.key
    assert rig.store.objects[event.object.key] == photo()
    assert rig.store.tags[event.object.key] == verdict_tags(outcome)
    assert rig.store.objects[verdict_key(event.image_id)] == body
    operations = [call.split()[0] for call in rig.store.calls]
    assert operations == ["fetch", "fetch", "tag", "put"], "no copy, no delete"
    assert rig.sample("civicqc_images_scored_total", verdict=outcome.value, tenant="default") == 1


async def test_an_upload_of_the_layout_before_is_copied_to_photos_with_its_tag() -> None:
    rig = Rig()
    event = _in_layout_before(rig)
    old = event.object.key
    await rig.handle(event.model_dump_json().encode())

    (body,) = rig.publisher.on(VERDICTS)
    published = VerdictEvent.model_validate_json(body)
    assert published.object.key == current_key(old) != old
    assert rig.store.objects[published.object.key] == photo()
    assert rig.store.tags[published.object.key] == verdict_tags(published.outcome)
    assert old not in rig.store.objects


def _in_layout_before(rig: Rig) -> ImageSubmitted:
    """An event published by an API of the layout before: its upload is in ``incoming/``."""
    event = rig.submitted(None)
    old = event.object.key.replace("photos/", "incoming/", 1)
    rig.store.objects[old] = photo()
    return event.model_copy(update={"object": event.object.model_copy(update={"key": old})})


async def test_a_redelivery_republishes_the_stored_verdict_without_scoring_again() -> None:
    rig = Rig()
    event = rig.submitted(photo())
    await rig.handle(event.model_dump_json().encode())
    rig.store.tags[event.object.key] = {}  # the crash came before the tag
    await rig.handle(event.model_dump_json().encode(), offset=1)

    first, second = rig.publisher.on(VERDICTS)
    assert second == first
    assert rig.scorer.calls == 1
    outcome = VerdictEvent.model_validate_json(first).outcome
    assert rig.store.tags[event.object.key] == verdict_tags(outcome)


async def test_an_event_no_replica_started_before_skips_the_verdict_lookup() -> None:
    rig = Rig()
    rig.claim.horizon = Horizon(1)
    stale, fresh = rig.submitted(photo()), rig.submitted(photo())
    await rig.handle(stale.model_dump_json().encode(), offset=0)
    await rig.handle(fresh.model_dump_json().encode(), offset=1)

    lookups = [call for call in rig.store.calls if call.startswith("fetch verdicts/")]
    assert lookups == [f"fetch {verdict_key(stale.image_id)}"]
    assert len(rig.publisher.on(VERDICTS)) == 2
    assert rig.store.objects[verdict_key(fresh.image_id)] == rig.publisher.on(VERDICTS)[1]


async def test_an_event_that_does_not_parse_is_dead_lettered_with_its_payload() -> None:
    rig = Rig()
    await rig.handle(b"{not json", offset=7)
    (letter,) = rig.letters()
    assert (letter.reason.value, letter.payload, letter.source.offset) == (
        "invalid_event",
        "{not json",
        7,
    )
    assert rig.publisher.on(VERDICTS) == []


async def test_a_missing_object_is_looked_for_during_the_grace_period_then_dead_lettered() -> None:
    rig = Rig(missing_object_grace_s=0.3)
    event = rig.submitted(None)
    started = time.monotonic()
    await rig.handle(event.model_dump_json().encode())
    assert time.monotonic() - started >= 0.3
    (letter,) = rig.letters()
    assert letter.reason.value == "object_missing"
    assert letter.attempts > 1


async def test_a_storage_outage_is_waited_out_and_never_dead_lettered() -> None:
    rig = Rig()
    rig.store.outage_calls = 5
    event = rig.submitted(photo())
    await rig.handle(event.model_dump_json().encode())
    assert len(rig.publisher.on(VERDICTS)) == 1
    assert rig.letters() == []
    assert rig.sample("civicqc_retries_total", operation="fetch_verdict") == 5


async def test_a_kafka_outage_is_waited_out_and_never_dead_lettered() -> None:
    rig = Rig()
    rig.publisher.outage_calls = 4
    event = rig.submitted(photo())
    await rig.handle(event.model_dump_json().encode())
    assert len(rig.publisher.on(VERDICTS)) == 1
    assert rig.sample("civicqc_retries_total", operation="publish") == 4


@pytest.mark.parametrize("where", ["store", "publisher"])
async def test_releasing_the_claim_ends_an_outage_wait_at_once(where: str) -> None:
    rig = Rig(retry_backoff=10.0, retry_backoff_max=10.0)
    if where == "store":
        rig.store.outage_calls = 1000
    else:
        rig.publisher.outage_calls = -1
    event = rig.submitted(photo())
    handling = asyncio.create_task(rig.handle(event.model_dump_json().encode()))
    await asyncio.sleep(0.5)  # scoring done, waiting out the outage
    rig.claim.release()
    rig.policy.wake()
    released = time.monotonic()
    with pytest.raises(AbandonedError):
        await asyncio.wait_for(handling, timeout=5)
    assert time.monotonic() - released < 1.0
    assert event.object.key in rig.store.objects, "abandoned work is redone, not lost"


async def test_a_worker_crash_is_retried_up_to_max_retries_times() -> None:
    rig = Rig(max_retries=2)
    rig.scorer.crashes = 2
    recovered = rig.submitted(photo())
    await rig.handle(recovered.model_dump_json().encode())
    (body,) = rig.publisher.on(VERDICTS)
    assert VerdictEvent.model_validate_json(body).outcome is not Outcome.ERROR
    assert (rig.scorer.calls, rig.letters()) == (3, [])


async def test_a_photo_the_workers_give_up_on_gets_a_dead_letter_then_an_error_verdict() -> None:
    rig = Rig(max_retries=2)
    corrupt = rig.submitted(photo()[:2000])
    await rig.handle(corrupt.model_dump_json().encode())
    rig.scorer.crashes = 100
    poison = rig.submitted(photo())
    await rig.handle(poison.model_dump_json().encode(), offset=1)

    (letter,) = rig.letters()
    assert (letter.reason.value, letter.attempts, letter.image_id) == (
        "worker_crashed",
        3,
        poison.image_id,
    )
    assert [topic for topic, _key, _value in rig.publisher.sent] == [VERDICTS, DLQ, VERDICTS]
    engine_error, body = rig.publisher.on(VERDICTS)
    published = VerdictEvent.model_validate_json(body)
    assert (published.image_id, published.outcome) == (poison.image_id, Outcome.ERROR)
    assert published.error is not None and published.error.code is ErrorCode.TOO_COMPLEX
    assert "WorkerCrashedError: worker killed" in published.error.message
    assert published.rules.name == rig.settings.rule_profile
    assert rig.store.objects[verdict_key(poison.image_id)] == body
    # Filed exactly as the engine's own error verdict (a truncated JPEG) was.
    assert VerdictEvent.model_validate_json(engine_error).outcome is Outcome.ERROR
    assert rig.store.tags[poison.object.key] == rig.store.tags[corrupt.object.key]
    assert rig.store.tags[poison.object.key] == verdict_tags(Outcome.ERROR)
    assert rig.store.objects[poison.object.key] == photo()
    assert rig.sample("civicqc_images_scored_total", verdict="error", tenant="default") == 2
    assert rig.sample("civicqc_dlq_messages_total", reason="worker_crashed") == 1

    # A redelivery (the commit was lost) republishes the stored verdict, byte for byte,
    # without scoring or dead-lettering again.
    calls = rig.scorer.calls
    await rig.handle(poison.model_dump_json().encode(), offset=1)
    assert rig.publisher.on(VERDICTS)[2] == body
    assert rig.scorer.calls == calls
    assert len(rig.letters()) == 1


@pytest.mark.parametrize("dedupe", [False, True], ids=["scoring", "deduplicating"])
async def test_a_photo_over_max_content_length_gets_a_too_large_verdict_unscored(
    dedupe: bool,
) -> None:
    """One byte over the limit: not scored, not dead-lettered, answered and filed as the
    engine's own error verdicts are; one at the limit is scored."""
    limit = len(photo())
    rig = Rig(max_content_length=limit)
    if dedupe:
        rules = rig.rulebook[rig.settings.rule_profile]
        rig.extended(duplicates=ExactDuplicates({rules.name: rules}))
    corrupt, fits = rig.submitted(photo()[:2000]), rig.submitted(photo())
    big = rig.submitted(photo() + b"\0")
    for offset, event in enumerate((corrupt, fits, big)):
        await rig.handle(event.model_dump_json().encode(), offset)

    engine_error, scored, body = rig.publisher.on(VERDICTS)
    assert VerdictEvent.model_validate_json(engine_error).outcome is Outcome.ERROR
    assert VerdictEvent.model_validate_json(scored).outcome is not Outcome.ERROR
    published = VerdictEvent.model_validate_json(body)
    assert (published.image_id, published.outcome) == (big.image_id, Outcome.ERROR)
    assert published.error is not None and published.error.code is ErrorCode.TOO_LARGE
    assert published.error.message == (
        f"the stored photo ({limit + 1} bytes) is over MAX_CONTENT_LENGTH, {limit} bytes"
    )
    assert (published.rules.name, published.object.key) == (
        rig.settings.rule_profile,
        big.object.key,
    )
    assert (rig.scorer.calls, rig.letters()) == (2, [])
    assert rig.store.objects[verdict_key(big.image_id)] == body
    assert rig.store.tags[big.object.key] == rig.store.tags[corrupt.object.key]
    assert rig.store.tags[big.object.key] == verdict_tags(Outcome.ERROR)
    assert rig.sample("civicqc_images_scored_total", verdict="error", tenant="default") == 2

    # A redelivery republishes the stored verdict without fetching the photo again.
    fetched = len(rig.store.calls)
    await rig.handle(big.model_dump_json().encode(), offset=2)
    assert rig.publisher.on(VERDICTS)[3] == body
    assert rig.store.calls[fetched:] == [
        f"fetch {verdict_key(big.image_id)}",
        f"tag {big.object.key}",
    ]


class VerdictsUnstorable(FakeStore):
    """A store that cannot take a verdict (an outage only there) until ``down`` is cleared;
    ``refused`` is set once it turned one away."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True
        self.refused = asyncio.Event()

    async def put(
        self, key: str, data: bytes, content_type: str, tags: Mapping[str, str] | None = None
    ) -> None:
        if self.down and key.startswith("verdicts/"):
            self.refused.set()
            raise StorageUnavailableError("connection refused")
        await super().put(key, data, content_type, tags)


async def test_an_attempt_that_dies_before_the_given_up_verdict_is_stored_loses_nothing() -> None:
    """The letter goes out before the verdict is stored: an attempt that ends between the
    two leaves no verdict, so the redelivery scores, dead-letters and answers again."""
    store = VerdictsUnstorable()
    rig = Rig(store, max_retries=1)
    rig.scorer.crashes = 100
    poison = rig.submitted(photo())
    handling = asyncio.create_task(rig.handle(poison.model_dump_json().encode()))
    # Scored, given up, dead-lettered, filed: now storing the verdict.
    await asyncio.wait_for(store.refused.wait(), timeout=5)
    assert len(rig.letters()) == 1
    rig.claim.release()
    rig.policy.wake()
    with pytest.raises(AbandonedError):
        await asyncio.wait_for(handling, timeout=5)
    assert rig.publisher.on(VERDICTS) == []

    store.down, rig.claim = False, Claim(PARTITION)
    await rig.handle(poison.model_dump_json().encode())
    assert [letter.reason.value for letter in rig.letters()] == ["worker_crashed"] * 2
    (body,) = rig.publisher.on(VERDICTS)
    assert VerdictEvent.model_validate_json(body).outcome is Outcome.ERROR
    assert store.objects[verdict_key(poison.image_id)] == body


def _forged_keys(image_id: uuid.UUID) -> dict[str, str]:
    other = new_image_id()
    own = incoming_key(image_id, "jpg")
    return {
        "another photo, filed before tags": incoming_key(other, "jpg").replace(
            "photos/", "accepted/"
        ),
        "a verdict": verdict_key(other),
        "another upload": incoming_key(other, "jpg"),
        "a path": own.replace(f"/{image_id}", f"/../../x/{image_id}"),
        "its own photo, filed before tags": own.replace("photos/", "rejected/"),
        "a dotted extension": own + ".json",
    }


@pytest.mark.parametrize(
    "what", [*_forged_keys(new_image_id()), "its own upload, in another bucket"]
)
async def test_an_event_naming_an_object_it_does_not_own_is_dead_lettered_untouched(
    what: str,
) -> None:
    rig = Rig()
    event = rig.submitted(None)
    image_id = uuid.UUID(event.image_id)
    named = _forged_keys(image_id).get(what, event.object.key)
    bucket = "elsewhere" if "another bucket" in what else event.object.bucket
    forged = event.model_copy(
        update={"object": event.object.model_copy(update={"key": named, "bucket": bucket})}
    )
    rig.store.objects[named] = b"not yours"
    await rig.handle(forged.model_dump_json().encode())

    (letter,) = rig.letters()
    assert letter.reason.value == "invalid_event"
    assert rig.store.objects == {named: b"not yours"}
    assert rig.store.calls == [], "nothing is read, copied or deleted for a forged event"


def verdict_of(event: ImageSubmitted) -> bytes:
    """A verdict event as another replica would have stored it for ``event``."""
    verdict = error_verdict(ErrorCode.CORRUPT, "theirs", builtin_profile("default"))
    filed = event.object.model_copy(update={"key": current_key(event.object.key)})
    return (
        VerdictEvent.of(
            verdict.model_copy(update={"image_id": event.image_id}),
            image_id=event.image_id,
            submitted_at=event.submitted_at,
            scored_at=datetime.now(UTC),
            metadata=event.metadata,
            object=filed,
        )
        .model_dump_json()
        .encode()
    )


class PreviousOwnerFilesFirst(FakeStore):
    """The partition's previous owner files an upload of the layout before (``incoming/``),
    stores its verdict and deletes the upload at the worst moment: right after this
    replica looked for a stored verdict."""

    def __init__(self, *, during: str) -> None:
        super().__init__()
        self.during = during
        self.finish: tuple[str, str, bytes] | None = None

    def _maybe_finish(self, operation: str) -> None:
        if self.finish is not None and operation == self.during:
            upload, verdict_key, body = self.finish
            self.objects[verdict_key] = body
            self.objects.pop(upload, None)
            self.finish = None

    async def fetch(self, key: str) -> bytes:
        if key.startswith("incoming/"):
            self._maybe_finish("fetch")
        return await super().fetch(key)

    async def copy(self, source: str, target: str, tags: Mapping[str, str] | None = None) -> None:
        self._maybe_finish("copy")
        await super().copy(source, target, tags)


@pytest.mark.parametrize("during", ["fetch", "copy"])
async def test_an_upload_filed_by_the_previous_owner_gets_that_verdict_republished(
    during: str,
) -> None:
    store = PreviousOwnerFilesFirst(during=during)
    rig = Rig(store, missing_object_grace_s=30.0)
    event = _in_layout_before(rig)
    theirs = verdict_of(event)
    store.finish = (event.object.key, verdict_key(event.image_id), theirs)
    started = time.monotonic()
    await rig.handle(event.model_dump_json().encode())

    assert rig.publisher.on(VERDICTS) == [theirs]
    assert rig.letters() == []
    assert time.monotonic() - started < 5, "no grace period for an upload that was filed"


async def test_an_unknown_tenant_is_counted_as_other() -> None:
    rig = Rig()
    event = rig.submitted(photo(), tenant=f"t-{uuid.uuid4().hex[:8]}")
    await rig.handle(event.model_dump_json().encode())
    families = {s.labels.get("tenant") for m in rig.registry.collect() for s in m.samples}
    assert event.metadata.tenant not in families
    assert (
        rig.sample("civicqc_images_scored_total", verdict="accepted", tenant="other")
        + rig.sample("civicqc_images_scored_total", verdict="rejected", tenant="other")
        == 1
    )


async def test_a_stored_verdict_that_no_longer_parses_is_replaced_by_a_new_one() -> None:
    rig = Rig()
    event = rig.submitted(photo())
    rig.store.objects[verdict_key(event.image_id)] = b'{"schema_version": 0}'
    await rig.handle(event.model_dump_json().encode())
    (body,) = rig.publisher.on(VERDICTS)
    assert VerdictEvent.model_validate_json(body).outcome is not Outcome.ERROR
    assert rig.store.objects[verdict_key(event.image_id)] == body


async def test_fingerprint_and_verdict_are_published_together_through_a_kafka_outage() -> None:
    """Both go out in one publish step: the event is done only once both are acknowledged,
    and a failed step sends both again (each is idempotent by image id)."""
    near = NearDuplicates(SearchRule(), "fingerprints")
    near.ready.set()
    rig = Rig().extended(near=near)
    rig.publisher.outage_calls = 3
    event = rig.submitted(photo())
    await rig.handle(event.model_dump_json().encode())
    # The second step's verdict went out, its fingerprint did not: the third sends both,
    # so a subscriber sees the verdict twice, byte for byte (at least once).
    verdicts = rig.publisher.on(VERDICTS)
    assert len(verdicts) == 2
    assert len(set(verdicts)) == 1
    assert VerdictEvent.model_validate_json(verdicts[0]).image_id == event.image_id
    records = {FingerprintRecord.model_validate_json(v) for v in rig.publisher.on("fingerprints")}
    assert {r.image_id for r in records} == {event.image_id}
    assert rig.sample("civicqc_retries_total", operation="publish") == 2
    assert rig.letters() == []
