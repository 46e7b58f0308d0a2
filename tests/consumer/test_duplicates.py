"""Exact duplicates on in-memory fakes: identical bytes are scored once per tenant and rules."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field

from consumer.duplicates import ExactDuplicates
from core.events import ImageSubmitted, VerdictEvent
from core.profiles import builtin_profile
from core.schema import Outcome
from runtime.layout import Folder, verdict_key, verdict_tags
from tests.builders import images
from tests.consumer.fakes import FakeStore
from tests.consumer.test_pipeline import VERDICTS, Rig, photo


@dataclass
class OverlappingStore(FakeStore):
    """Holds the first two lookups of a verdict on record until both are made, as two
    copies' round trips may overlap: neither finds the other's verdict."""

    held: list[asyncio.Event] = field(default_factory=list)

    async def fetch(self, key: str) -> bytes:
        if not key.startswith(Folder.DIGESTS.prefix) or len(self.held) >= 2:
            return await super().fetch(key)
        arrived = asyncio.Event()
        self.held.append(arrived)
        try:
            return await super().fetch(key)  # answered now, handed over once both asked
        finally:
            for lookup in self.held if len(self.held) == 2 else ():
                lookup.set()
            await arrived.wait()


def deduping_rig(store: FakeStore | None = None, version: str = "") -> Rig:
    """A rig whose pipeline reuses verdicts; ``version`` replaces the default profile's."""
    rig = Rig(store)
    rules = builtin_profile(rig.settings.rule_profile)
    if version:
        rules = rules.model_copy(update={"version": version})
    return rig.extended(duplicates=ExactDuplicates({rules.name: rules}))


def upload(rig: Rig, data: bytes, tenant: str = "default") -> ImageSubmitted:
    event = rig.submitted(data, tenant=tenant)
    digest = hashlib.sha256(data).hexdigest()
    return event.model_copy(update={"object": event.object.model_copy(update={"sha256": digest})})


async def test_identical_bytes_get_the_first_verdict_again_marked_duplicate() -> None:
    rig = deduping_rig()
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


async def test_another_tenant_or_a_new_profile_version_scores_the_bytes_again() -> None:
    rig = deduping_rig()
    await rig.handle(upload(rig, photo()).model_dump_json().encode())
    await rig.handle(upload(rig, photo(), tenant="springfield").model_dump_json().encode())
    bumped = deduping_rig(rig.store, version="99.0")
    await bumped.handle(upload(bumped, photo()).model_dump_json().encode())

    assert (rig.scorer.calls, bumped.scorer.calls) == (2, 1)
    published = [*rig.publisher.on(VERDICTS), *bumped.publisher.on(VERDICTS)]
    assert [VerdictEvent.model_validate_json(v).duplicate_of for v in published] == [None] * 3


async def test_error_verdicts_are_not_reused() -> None:
    rig = deduping_rig()
    for offset in range(2):
        await rig.handle(upload(rig, b"not a photo").model_dump_json().encode(), offset=offset)

    verdicts = [VerdictEvent.model_validate_json(v) for v in rig.publisher.on(VERDICTS)]
    assert [(v.outcome, v.duplicate_of) for v in verdicts] == [(Outcome.ERROR, None)] * 2
    assert rig.scorer.calls == 2


async def test_a_copy_arriving_while_the_first_is_pending_is_scored_on_its_own() -> None:
    rig = deduping_rig(OverlappingStore())
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


async def test_bytes_unlike_their_events_digest_neither_reuse_nor_record_a_verdict() -> None:
    # Before: an event naming an accepted photo's digest got that photo's verdict for its
    # own bytes, never read; and one naming the digest of bytes not seen yet recorded its
    # own verdict for them, so the real copies to come were answered with it.
    rig = deduping_rig()
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


async def test_the_digest_the_api_kept_with_a_photo_is_its_word_for_the_bytes() -> None:
    """A photo the API vouched for is checked by that digest, not hashed again: here the
    second copy's bytes do hash to the record's digest, but the store says they are other
    bytes, so the copy neither reuses nor leaves a record."""
    rig = deduping_rig()
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
