"""Exact duplicates on in-memory fakes: identical bytes are scored once per tenant and rules."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest

from consumer.duplicates import ExactDuplicates
from consumer.near import NearDuplicates
from core.events import FingerprintRecord, ImageSubmitted, VerdictEvent
from core.profiles import builtin_profile
from core.schema import Outcome
from core.similar import SearchRule
from runtime.layout import Folder, verdict_key, verdict_tags
from runtime.rulebook import rules_tag
from tests.builders import images
from tests.consumer.fakes import FakeStore
from tests.consumer.test_pipeline import VERDICTS, Rig, photo

FINGERPRINTS = "fingerprints"


@dataclass
class OverlappingStore(FakeStore):
    """Holds the first two verdicts being stored until both are, as two copies' scoring
    may overlap: each looked for the other's verdict before either was stored."""

    held: list[asyncio.Event] = field(default_factory=list)

    async def put(
        self, key: str, data: bytes, content_type: str, tags: Mapping[str, str] | None = None
    ) -> None:
        if not key.startswith(Folder.VERDICTS.prefix) or len(self.held) >= 2:
            return await super().put(key, data, content_type, tags)
        arrived = asyncio.Event()
        self.held.append(arrived)
        try:
            return await super().put(key, data, content_type, tags)  # stored; answered later
        finally:
            for lookup in self.held if len(self.held) == 2 else ():
                lookup.set()
            await arrived.wait()


@pytest.fixture(params=["records", "index"])
def index(request: pytest.FixtureRequest) -> bool:
    """Both ways a first copy is found: records in the store, or the fingerprint topic's map."""
    return bool(request.param == "index")


def deduping_rig(store: FakeStore | None = None, version: str = "", index: bool = False) -> Rig:
    """A rig whose pipeline reuses verdicts; ``version`` replaces the default profile's;
    ``index``: it follows a fingerprint topic (the fake publisher's), so finds first copies
    in memory."""
    rig = Rig(store)
    rules = builtin_profile(rig.settings.rule_profile)
    if version:
        rules = rules.model_copy(update={"version": version})
    near = None
    if index:
        near = NearDuplicates(SearchRule(), FINGERPRINTS)
        near.ready.set()
    return rig.extended(duplicates=ExactDuplicates({rules.name: rules}), near=near)


def upload(rig: Rig, data: bytes, tenant: str = "default") -> ImageSubmitted:
    event = rig.submitted(data, tenant=tenant)
    digest = hashlib.sha256(data).hexdigest()
    return event.model_copy(update={"object": event.object.model_copy(update={"sha256": digest})})


async def test_identical_bytes_get_the_first_verdict_again_marked_duplicate(index: bool) -> None:
    rig = deduping_rig(index=index)
    first, second = upload(rig, photo()), upload(rig, photo())
    await rig.handle(first.model_dump_json().encode())
    await rig.handle(second.model_dump_json().encode(), offset=1)

    original, repeated = (VerdictEvent.model_validate_json(v) for v in rig.publisher.on(VERDICTS))
    assert rig.scorer.calls == 1
    assert original.duplicate_of is None
    assert repeated.duplicate_of == first.image_id
    assert repeated.image_id == second.image_id
    assert (repeated.outcome, repeated.score, repeated.checks) == (
        original.outcome,
        original.score,
        original.checks,
    )
    assert repeated.object.key == second.object.key, "the photo stays where it was uploaded"
    assert rig.store.objects[repeated.object.key] == photo()
    assert rig.store.tags[repeated.object.key] == verdict_tags(repeated.outcome)
    assert VerdictEvent.model_validate_json(rig.store.objects[verdict_key(second.image_id)]) == (
        repeated
    )
    assert rig.sample("civicqc_duplicate_verdicts_total", tenant="default") == 1
    assert (
        rig.sample("civicqc_images_scored_total", verdict=original.outcome, tenant="default") == 2
    )
    assert rig.sample("civicqc_scoring_duration_seconds_count") == 1


async def test_another_tenant_or_a_new_profile_version_scores_the_bytes_again(index: bool) -> None:
    rig = deduping_rig(index=index)
    await rig.handle(upload(rig, photo()).model_dump_json().encode())
    await rig.handle(upload(rig, photo(), tenant="springfield").model_dump_json().encode())
    bumped = deduping_rig(rig.store, version="99.0", index=index)
    await bumped.handle(upload(bumped, photo()).model_dump_json().encode())

    assert (rig.scorer.calls, bumped.scorer.calls) == (2, 1)
    published = [*rig.publisher.on(VERDICTS), *bumped.publisher.on(VERDICTS)]
    assert [VerdictEvent.model_validate_json(v).duplicate_of for v in published] == [None] * 3


async def test_error_verdicts_are_not_reused(index: bool) -> None:
    rig = deduping_rig(index=index)
    for offset in range(2):
        await rig.handle(upload(rig, b"not a photo").model_dump_json().encode(), offset=offset)

    verdicts = [VerdictEvent.model_validate_json(v) for v in rig.publisher.on(VERDICTS)]
    assert [(v.outcome, v.duplicate_of) for v in verdicts] == [(Outcome.ERROR, None)] * 2
    assert rig.scorer.calls == 2


async def test_a_copy_arriving_while_the_first_is_pending_is_scored_on_its_own(index: bool) -> None:
    rig = deduping_rig(OverlappingStore(), index=index)
    first, second = upload(rig, photo()), upload(rig, photo())
    # Both in flight at once: neither finds a stored verdict to reuse.
    await asyncio.gather(
        rig.handle(first.model_dump_json().encode()),
        rig.handle(second.model_dump_json().encode(), offset=1),
    )
    third = upload(rig, photo())
    await rig.handle(third.model_dump_json().encode(), offset=2)

    verdicts = [VerdictEvent.model_validate_json(v) for v in rig.publisher.on(VERDICTS)]
    assert rig.scorer.calls == 2
    assert [v.duplicate_of for v in verdicts[:2]] == [None, None]
    assert verdicts[2].duplicate_of in {first.image_id, second.image_id}


def forged(rig: Rig, data: bytes, digest_of: bytes) -> ImageSubmitted:
    """An event for ``data`` that names the digest of other bytes (a forged or damaged event)."""
    event = rig.submitted(data)
    digest = hashlib.sha256(digest_of).hexdigest()
    return event.model_copy(update={"object": event.object.model_copy(update={"sha256": digest})})


async def test_bytes_unlike_their_events_digest_neither_reuse_nor_record_a_verdict(
    index: bool,
) -> None:
    # Before: an event naming an accepted photo's digest got that photo's verdict for its
    # own bytes, never read; and one naming the digest of bytes not seen yet recorded its
    # own verdict for them, so the real copies to come were answered with it.
    rig = deduping_rig(index=index)
    small = images.encode(images.sharp_photo(320, 240), quality=90)  # rejected: too small
    await rig.handle(upload(rig, photo()).model_dump_json().encode())
    await rig.handle(forged(rig, small, photo()).model_dump_json().encode(), offset=1)
    other = images.encode(images.sharp_photo(800, 600), quality=80)
    await rig.handle(forged(rig, small, other).model_dump_json().encode(), offset=2)
    await rig.handle(upload(rig, other).model_dump_json().encode(), offset=3)

    verdicts = [VerdictEvent.model_validate_json(v) for v in rig.publisher.on(VERDICTS)]
    assert [(v.outcome, v.duplicate_of) for v in verdicts] == [
        (Outcome.ACCEPTED, None),
        (Outcome.REJECTED, None),
        (Outcome.REJECTED, None),
        (Outcome.ACCEPTED, None),
    ]
    assert rig.scorer.calls == 4


async def test_the_digest_the_api_kept_with_a_photo_is_its_word_for_the_bytes(index: bool) -> None:
    """A photo the API vouched for is checked by that digest, not hashed again: here the
    second copy's bytes do hash to the record's digest, but the store says they are other
    bytes, so the copy neither reuses nor leaves a record."""
    rig = deduping_rig(index=index)
    first, second = upload(rig, photo()), upload(rig, photo())
    rig.store.vouched[first.object.key] = first.object.sha256
    rig.store.vouched[second.object.key] = hashlib.sha256(b"other bytes").hexdigest()
    await rig.handle(first.model_dump_json().encode())
    await rig.handle(second.model_dump_json().encode(), offset=1)
    third = upload(rig, photo())  # not vouched for: hashed, and a copy of the first
    await rig.handle(third.model_dump_json().encode(), offset=2)

    verdicts = [VerdictEvent.model_validate_json(v) for v in rig.publisher.on(VERDICTS)]
    assert [v.duplicate_of for v in verdicts] == [None, None, first.image_id]
    assert rig.scorer.calls == 2


def shared(rig: Rig) -> list[FingerprintRecord]:
    """The fingerprint records ``rig`` published for the other replicas."""
    return [FingerprintRecord.model_validate_json(v) for v in rig.publisher.on(FINGERPRINTS)]


async def test_with_the_fingerprint_topic_a_first_copy_costs_no_store_request() -> None:
    rig = deduping_rig(index=True)
    first, second = upload(rig, photo()), upload(rig, photo())
    await rig.handle(first.model_dump_json().encode())
    calls_for_first = list(rig.store.calls)
    await rig.handle(second.model_dump_json().encode(), offset=1)

    # Fetch the photo, tag it, store its verdict: no record looked up, none written.
    assert [c.split()[0] for c in calls_for_first] == ["fetch", "fetch", "tag", "put"]
    assert not [key for key in rig.store.objects if key.startswith(Folder.DIGESTS.prefix)]
    (record,) = shared(rig)
    rules = rules_tag(builtin_profile(rig.settings.rule_profile))
    assert (record.image_id, record.sha256, record.rules) == (
        first.image_id,
        first.object.sha256,
        rules,
    )
    repeated = VerdictEvent.model_validate_json(rig.publisher.on(VERDICTS)[1])
    assert repeated.duplicate_of == first.image_id
    assert f"fetch {verdict_key(first.image_id)}" in rig.store.calls[len(calls_for_first) :]
    assert rig.scorer.calls == 1


async def test_another_replica_reuses_a_verdict_it_learnt_of_from_the_topic() -> None:
    scorer = deduping_rig(index=True)
    first = upload(scorer, photo())
    await scorer.handle(first.model_dump_json().encode())
    other = deduping_rig(scorer.store, index=True)
    assert other.pipeline._near is not None
    for record in shared(scorer):  # what the other replica reads from the topic
        other.pipeline._near.remember(record)

    copy = upload(other, photo())
    await other.handle(copy.model_dump_json().encode())

    (repeated,) = (VerdictEvent.model_validate_json(v) for v in other.publisher.on(VERDICTS))
    assert (repeated.image_id, repeated.duplicate_of) == (copy.image_id, first.image_id)
    assert other.scorer.calls == 0
    assert shared(other) == [], "a copy is not a first copy: it publishes no record"


async def test_a_record_naming_a_verdict_on_other_bytes_is_not_reused() -> None:
    """A stale or forged record (another photo's id under this digest) scores the photo."""
    rig = deduping_rig(index=True)
    small = images.encode(images.sharp_photo(320, 240), quality=90)
    unrelated = upload(rig, small)
    await rig.handle(unrelated.model_dump_json().encode())
    assert rig.pipeline._near is not None
    copy = upload(rig, photo())
    rig.pipeline._near.remember(shared(rig)[0].model_copy(update={"sha256": copy.object.sha256}))
    await rig.handle(copy.model_dump_json().encode(), offset=1)

    verdicts = [VerdictEvent.model_validate_json(v) for v in rig.publisher.on(VERDICTS)]
    assert [(v.outcome, v.duplicate_of) for v in verdicts] == [
        (Outcome.REJECTED, None),
        (Outcome.ACCEPTED, None),
    ]
    assert rig.scorer.calls == 2


async def test_bytes_unlike_their_events_digest_publish_no_digest() -> None:
    rig = deduping_rig(index=True)
    await rig.handle(forged(rig, photo(), b"other bytes").model_dump_json().encode())
    (record,) = shared(rig)
    assert (record.sha256, record.rules) == (None, None)
