"""The pipeline of one event: ``ImageSubmitted`` in, its verdict (or dead letter) published.

Steps: read the stored verdict (a redelivery reuses it byte for byte; skipped for an
event no replica started before, :mod:`consumer.horizon`) or fetch the photo, score it
in the worker pool, tag the photo with its outcome where it lies (:mod:`runtime.layout`:
one small request, where filing it took a copy and a delete),
store the redacted copy when there is one, store ``verdicts/{id}.json``, publish the
verdict. The loop commits the event's offset only after :meth:`EventPipeline.handle`
returns, so delivery is at least once and a duplicate verdict is byte-identical to the
first one.

An event of the layout before (an ``incoming/`` key, published before the change)
still gets a copy, to the photo's ``photos/`` key with its tags, and the delete.

Each step goes through :class:`~consumer.retry.RetryPolicy`. Only what is wrong with
this one event is dead-lettered, so its partition keeps moving: an event that does not
parse, an object still missing a grace period after its event said it exists, and a
scoring worker that crashes again and again on the same bytes. That last photo was
submitted and must still be answered: it gets an ``error`` verdict (``too_complex``),
filed, stored and published like any other, after its dead letter is out, so a crash
before the verdict is stored only repeats the letter.

A stored object over ``MAX_CONTENT_LENGTH`` (put in the bucket some other way than
through the API: by hand, through a policy mistake, by an API with a larger limit) is
not read past the limit and not scored: it gets an ``error`` verdict (``too_large``),
filed, stored and published the same way, and nothing is dead-lettered (the photo,
not the service, is at fault, and its verdict says so).

The pipeline sees its collaborators through the small ports below, so unit tests run
it on in-memory fakes; :mod:`consumer.main` wires the real ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import NamedTuple, Protocol, TypeVar

from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError

from consumer.claim import Claim
from consumer.duplicates import ExactDuplicates
from consumer.metrics import ConsumerMetrics
from consumer.near import NearDuplicates
from consumer.publisher import PublishUnavailableError
from consumer.retry import GaveUpError, RetryPolicy
from consumer.scoring import Scored
from consumer.settings import ConsumerSettings
from consumer.shadow import ShadowProfiles
from core.engine import error_verdict
from core.events import (
    DeadLetter,
    DeadLetterReason,
    ImageSubmitted,
    NearDuplicate,
    ObjectRef,
    SourceRecord,
    VerdictEvent,
)
from core.privacy import redact_exif
from core.rules import Rules
from core.schema import ErrorCode, Outcome, Verdict
from runtime.layout import current_key, is_incoming_key, redacted_key, verdict_key, verdict_tags
from runtime.object_store import ObjectMissingError, ObjectTooLargeError
from runtime.rulebook import profile_for_tenant

logger = logging.getLogger(__name__)

T = TypeVar("T")

_JSON = "application/json"
#: A shadow verdict waits at most this long for the broker: it holds the event's commit.
_SHADOW_PUBLISH_TIMEOUT_S = 5.0


class Store(Protocol):
    """The object store (:class:`consumer.storage.ObjectStore`)."""

    async def fetch(self, key: str) -> bytes: ...
    async def fetch_vouched(
        self, key: str, *, max_bytes: int | None = None
    ) -> tuple[bytes, str | None]: ...
    async def tag(self, key: str, tags: Mapping[str, str]) -> None: ...
    async def copy(
        self, source: str, target: str, tags: Mapping[str, str] | None = None
    ) -> None: ...
    async def put(
        self, key: str, data: bytes, content_type: str, tags: Mapping[str, str] | None = None
    ) -> None: ...
    async def delete(self, key: str) -> None: ...


class Scorer(Protocol):
    """The scoring worker pool (:class:`consumer.scoring.ScoringPool`)."""

    async def score(
        self, data: bytes, profile: str, image_id: str, shadow: str | None = None
    ) -> Scored: ...


class Publisher(Protocol):
    """Kafka (:class:`consumer.publisher.KafkaPublisher`)."""

    async def publish(self, topic: str, key: bytes | None, value: bytes) -> None: ...


class EventPipeline:
    """Takes one event at a time to its published outcome; many run concurrently."""

    def __init__(
        self,
        settings: ConsumerSettings,
        metrics: ConsumerMetrics,
        store: Store,
        scorer: Scorer,
        publisher: Publisher,
        policy: RetryPolicy,
        rulebook: Mapping[str, Rules],
        duplicates: ExactDuplicates | None = None,
        near: NearDuplicates | None = None,
        shadow: ShadowProfiles | None = None,
    ) -> None:
        """``rulebook``: the profiles by name (:func:`runtime.rulebook.load_rulebook`), for the
        verdict of a photo its workers gave up on; ``duplicates``: reuse the verdict of
        identical bytes (None: score every event); ``shadow``: the tenants' candidate
        profiles (None: no shadow scoring)."""
        self._settings = settings
        self._shadow = shadow
        self._duplicates = duplicates
        self._near = near
        self._metrics = metrics
        self._store = store
        self._scorer = scorer
        self._publisher = publisher
        self._policy = policy
        self._rulebook = rulebook

    async def handle(self, record: ConsumerRecord, claim: Claim) -> None:
        """Publish the verdict of ``record`` (or dead-letter it).

        Returns when its offset may be committed; raises
        :class:`~consumer.retry.AbandonedError` when ``claim`` was released meanwhile.
        """
        try:
            event = ImageSubmitted.model_validate_json(record.value)
        except ValidationError as exc:
            invalid = GaveUpError(DeadLetterReason.INVALID_EVENT, 1, exc)
            await self._dead_letter(record, None, invalid, claim)
            return
        try:
            self._check_trusted(event)
            await self._process(event, record, claim, fresh=claim.fresh(record.offset))
        except GaveUpError as gave_up:
            await self._dead_letter(record, event.image_id, gave_up, claim)

    def _check_trusted(self, event: ImageSubmitted) -> None:
        """Act only on this bucket's upload of this image (``photos/``, or ``incoming/`` from
        the layout before): the consumer tags the key an event names (copies and deletes an
        old one), so a forged event must not name another."""
        problem = None
        if event.object.bucket != self._settings.s3_bucket:
            problem = f"bucket {event.object.bucket!r} is not {self._settings.s3_bucket!r}"
        elif not is_incoming_key(event.object.key, event.image_id):
            problem = f"key {event.object.key!r} is not an incoming key of {event.image_id!r}"
        if problem is not None:
            raise GaveUpError(DeadLetterReason.INVALID_EVENT, 1, UntrustedEventError(problem))

    def _step(self, operation: str, step: Callable[[], Awaitable[T]], claim: Claim) -> Awaitable[T]:
        return self._policy.call(operation, step, claim)

    async def _process(
        self, event: ImageSubmitted, record: ConsumerRecord, claim: Claim, *, fresh: bool
    ) -> None:
        """``fresh``: no replica started this event before (:mod:`consumer.horizon`), so no
        verdict of it can be stored yet and the lookup is skipped. ``record`` carries the
        event, for the dead letter of a photo the scoring workers give up on."""
        source, image_id = event.object.key, event.image_id
        stored = None if fresh else await self._stored_verdict(image_id, claim)
        verdict: Verdict | VerdictEvent | None = None
        shadow: Verdict | None = None
        shared: list[_Message] = []
        if stored is None:
            try:
                body, verdict, shadow, shared = await self._answer(event, record, claim)
            except _FiledElsewhereError as filed:
                body = filed.body
        else:
            # A redelivery: the first attempt got as far as storing its verdict (and the
            # redacted copy, which is stored before it); it may not have tagged the photo.
            body, outcome = stored
            with contextlib.suppress(ObjectMissingError):  # an old-layout upload, filed
                await self._mark(source, outcome, claim)
        # The fingerprint and the verdict travel in one produce request, both acknowledged
        # before the event is done (a retry sends both again: each is idempotent by id).
        messages = [*shared, _Message(self._settings.topic_verdicts, image_id.encode(), body)]
        await self._step("publish", lambda: self._publish(messages), claim)
        if current_key(source) != source:  # the layout before: the upload was copied
            await self._step("delete", lambda: self._store.delete(source), claim)
        if isinstance(verdict, Verdict):
            self._metrics.record_verdict(verdict, event.metadata.tenant, event.submitted_at)
            if shadow is not None:
                await self._publish_shadow(event, verdict, shadow)
        elif verdict is not None:
            self._metrics.record_duplicate(verdict, event.submitted_at)

    async def _publish(self, messages: list[_Message]) -> None:
        """Send every message at once and wait for all their acks; the first error, if any."""
        sent = await asyncio.gather(
            *(self._publisher.publish(*message) for message in messages), return_exceptions=True
        )
        for result in sent:
            if isinstance(result, BaseException):
                raise result

    async def _publish_shadow(self, event: ImageSubmitted, live: Verdict, shadow: Verdict) -> None:
        """Once the live verdict is out: one bounded try, a failure only counted and logged."""
        assert self._shadow is not None
        body = self._shadow.event(event, live, shadow, datetime.now(UTC)).model_dump_json()
        topic, key = self._shadow.topic, event.image_id.encode()
        try:
            await asyncio.wait_for(
                self._publisher.publish(topic, key, body.encode()), _SHADOW_PUBLISH_TIMEOUT_S
            )
        except (PublishUnavailableError, KafkaError, TimeoutError) as exc:
            self._metrics.shadow_failures.labels("publish").inc()
            logger.warning(
                "shadow verdict not published",
                extra={"image_id": event.image_id, "topic": topic, "error": repr(exc)},
            )
            return
        self._metrics.record_shadow(live, shadow, event.metadata.tenant)

    async def _stored_verdict(self, image_id: str, claim: Claim) -> tuple[bytes, Outcome] | None:
        """The verdict event an earlier attempt stored, and its outcome (the photo's tag).

        One that no longer parses (written by an older, incompatible version) counts as
        absent: the photo is scored again and the new verdict replaces it.
        """
        key = verdict_key(image_id)
        try:
            body = await self._step("fetch_verdict", lambda: self._store.fetch(key), claim)
        except ObjectMissingError:
            return None
        try:
            return body, VerdictEvent.model_validate_json(body).outcome
        except ValidationError:
            logger.warning("stored verdict does not parse; scoring again", extra={"key": key})
            return None

    async def _answer(
        self, event: ImageSubmitted, record: ConsumerRecord, claim: Claim
    ) -> tuple[bytes, Verdict | VerdictEvent, Verdict | None, list[_Message]]:
        """:meth:`_reuse_or_score`, or, for a photo over ``MAX_CONTENT_LENGTH``, its
        ``too_large`` verdict."""
        try:
            return await self._reuse_or_score(event, record, claim)
        except ObjectTooLargeError as refused:
            body, verdict = await self._too_large(event, refused, claim)
            return body, verdict, None, []

    async def _too_large(
        self, event: ImageSubmitted, refused: ObjectTooLargeError, claim: Claim
    ) -> tuple[bytes, Verdict]:
        """File and store the ``error`` verdict of a photo too large to read: the citizen
        gets an answer, and the operator a warning (the API would have refused it)."""
        image_id = event.image_id
        logger.warning(
            "submitted object over MAX_CONTENT_LENGTH, not read",
            extra={"image_id": image_id, "key": refused.key, "size_bytes": refused.size},
        )
        size = f"{refused.size} bytes" if refused.size is not None else "larger"
        message = f"the stored photo ({size}) is over MAX_CONTENT_LENGTH, {refused.max_bytes} bytes"
        rules = self._rulebook[profile_for_tenant(self._settings, event.metadata.tenant)]
        verdict = error_verdict(ErrorCode.TOO_LARGE, message, rules, image_id=image_id)
        try:
            await self._mark(event.object.key, verdict.verdict, claim)
        except ObjectMissingError:  # gone since its GET: nothing is left to file
            await self._raise_if_filed(image_id, claim)
        return await self._store_verdict(event, verdict, None, claim), verdict

    async def _reuse_or_score(
        self, event: ImageSubmitted, record: ConsumerRecord, claim: Claim
    ) -> tuple[bytes, Verdict | VerdictEvent, Verdict | None, list[_Message]]:
        """The engine's new verdict, recorded for the copies to come, and the candidate's when
        the photo is shadowed; or, for identical bytes on record, the event that repeats
        theirs (a copy is not scored, so it has no shadow verdict). Last, what to publish
        with the verdict."""
        profile = profile_for_tenant(self._settings, event.metadata.tenant)
        rules = None if self._duplicates is None else self._duplicates.rules_of(profile)
        if rules is None:
            return await self._score_and_store(event, record, claim)
        # The digest is the event's word: only bytes that match it may take, or leave, the
        # verdict on record for it (else a forged event copies an accepted photo's verdict).
        data, vouched = await self._fetch_submitted(event, claim)
        if not await _matches(data, vouched, event.object):
            logger.warning(
                "the stored photo does not match its event's digest; scored on its own",
                extra={"image_id": event.image_id, "key": event.object.key},
            )
            return await self._score_and_store(event, record, claim, data)
        near = self._near
        if near is not None and near.ready.is_set():
            # The fingerprint topic names every first copy: a miss needs no request.
            first = near.first_copy(event.metadata.tenant, rules, event.object.sha256)
            reused = None
            if first is not None and first != event.image_id:
                reused = await self._reuse(event, verdict_key(first), claim)
            if reused is not None:
                return (*reused, None, [])
            return await self._score_and_store(event, record, claim, data, rules)
        digest = ExactDuplicates.record_key(event, rules)
        reused = await self._reuse(event, digest, claim)
        if reused is not None:
            return (*reused, None, [])
        body, verdict, shadow, shared = await self._score_and_store(event, record, claim, data)
        if ExactDuplicates.worth_recording(verdict):
            await self._step("record", lambda: self._store.put(digest, body, _JSON), claim)
        return body, verdict, shadow, shared

    async def _reuse(
        self, event: ImageSubmitted, record: str, claim: Claim
    ) -> tuple[bytes, VerdictEvent] | None:
        """Tag and store ``event`` with the verdict on ``record``; None when there is none
        (or the submission is missing: the scoring path looks for it with its grace)."""
        try:
            found = await self._step("fetch_record", lambda: self._store.fetch(record), claim)
            first = VerdictEvent.model_validate_json(found)
        except (ObjectMissingError, ValidationError):
            return None
        if not ExactDuplicates.repeats(first, event):
            return None
        source = event.object.key
        target = current_key(source)
        try:
            await self._mark(source, first.outcome, claim)
        except ObjectMissingError:
            await self._raise_if_filed(event.image_id, claim)
            return None
        repeated = ExactDuplicates.repeat(first, event, target, datetime.now(UTC))
        body = repeated.model_dump_json().encode()
        key = verdict_key(event.image_id)
        await self._step("store", lambda: self._store.put(key, body, _JSON), claim)
        return body, repeated

    async def _score_and_store(
        self,
        event: ImageSubmitted,
        record: ConsumerRecord,
        claim: Claim,
        data: bytes | None = None,
        rules: str | None = None,
    ) -> tuple[bytes, Verdict, Verdict | None, list[_Message]]:
        """Score the submitted object (``data``, when already fetched), file it and store the
        verdict event's body; the candidate profile's verdict too when the photo is shadowed,
        and what to publish with the verdict (the photo's fingerprint, for the other
        replicas; with its digest and ``rules`` when those are given, which only bytes that
        match their event's digest may do, so copies to come reuse this verdict)."""
        source, image_id = event.object.key, event.image_id
        if data is None:
            data, _ = await self._fetch_submitted(event, claim)
        profile = profile_for_tenant(self._settings, event.metadata.tenant)
        candidate = None if self._shadow is None else self._shadow.candidate_for(event)
        scored = await self._scored(event, record, data, (profile, candidate), claim)
        if scored.shadow_error is not None:
            self._metrics.shadow_failures.labels("score").inc()
            logger.warning(
                "shadow scoring failed", extra={"image_id": image_id, "error": scored.shadow_error}
            )
        verdict = scored.verdict
        await self._file(event, verdict.verdict, data, claim)
        redacted = await self._store_redacted(event, current_key(source), scored, claim)
        body = await self._store_verdict(event, verdict, redacted, claim)
        if not ExactDuplicates.worth_recording(verdict):
            rules = None
        return body, verdict, scored.shadow, self._shared_fingerprint(event, verdict, rules)

    async def _store_verdict(
        self, event: ImageSubmitted, verdict: Verdict, redacted: ObjectRef | None, claim: Claim
    ) -> bytes:
        """Store the verdict event of ``event`` (the photo filed, EXIF as disclosed); its
        body, for the verdict topic."""
        body = (
            VerdictEvent.of(
                redact_exif(verdict, self._settings.exif_in_verdicts),
                image_id=event.image_id,
                submitted_at=event.submitted_at,
                scored_at=datetime.now(UTC),
                metadata=event.metadata,
                object=event.object.model_copy(update={"key": current_key(event.object.key)}),
                redacted=redacted,
            )
            .model_copy(update={"near_duplicates": self._near_matches(event, verdict)})
            .model_dump_json()
            .encode()
        )
        key = verdict_key(event.image_id)
        await self._step("store", lambda: self._store.put(key, body, _JSON), claim)
        return body

    async def _scored(
        self,
        event: ImageSubmitted,
        record: ConsumerRecord,
        data: bytes,
        profiles: tuple[str, str | None],
        claim: Claim,
    ) -> Scored:
        """The workers' verdict under ``profiles`` (live, candidate). When they give up on
        these bytes (crashed, ran out of memory or time, again and again), the event is
        dead-lettered first, so that a crash before its verdict is stored repeats the
        letter rather than losing it, and the photo is ``too_complex``: an operator's
        problem, but the citizen still gets an answer, not ``pending`` forever."""
        image_id, (profile, candidate) = event.image_id, profiles
        started = time.monotonic()
        try:
            return await self._step(
                "score", lambda: self._scorer.score(data, profile, image_id, candidate), claim
            )
        except GaveUpError as gave_up:
            if gave_up.reason is not DeadLetterReason.WORKER_CRASHED:
                raise
            await self._dead_letter(record, image_id, gave_up, claim)
            elapsed_ms = (time.monotonic() - started) * 1000.0
            message = f"the scoring workers gave up after {gave_up.attempts} attempts: {gave_up}"
            rules = self._rulebook[profile]
            verdict = error_verdict(
                ErrorCode.TOO_COMPLEX, message, rules, image_id=image_id, elapsed_ms=elapsed_ms
            )
            return Scored(verdict, None)

    def _near_matches(self, event: ImageSubmitted, verdict: Verdict) -> list[NearDuplicate] | None:
        near = self._near
        if near is None or not near.ready.is_set() or verdict.fingerprint is None:
            return None
        found = near.matches(event, verdict.fingerprint)
        self._metrics.record_near_duplicates(event.metadata.tenant, len(found))
        return found

    def _shared_fingerprint(
        self, event: ImageSubmitted, verdict: Verdict, rules: str | None
    ) -> list[_Message]:
        """Remember this photo (this replica knows it at once) and what tells the others."""
        near = self._near
        if near is None or not near.ready.is_set() or verdict.fingerprint is None:
            return []
        record = near.record(event, verdict.fingerprint, rules)
        near.remember(record)
        return [_Message(near.topic, event.image_id.encode(), record.model_dump_json().encode())]

    async def _store_redacted(
        self, event: ImageSubmitted, filed: str, scored: Scored, claim: Claim
    ) -> ObjectRef | None:
        """Store the redacted copy next to the filed photo; its reference for the verdict."""
        jpeg = scored.redacted
        if jpeg is None:
            if scored.verdict.redaction_required:
                logger.warning(
                    "redacted copy could not be rendered", extra={"image_id": event.image_id}
                )
            return None
        ref = _jpeg_ref(event.object.bucket, redacted_key(filed), jpeg)
        tags = verdict_tags(scored.verdict.verdict)
        await self._step(
            "store_redacted", lambda: self._store.put(ref.key, jpeg, "image/jpeg", tags), claim
        )
        return ref

    async def _fetch_submitted(
        self, event: ImageSubmitted, claim: Claim
    ) -> tuple[bytes, str | None]:
        """The submitted bytes and the SHA-256 the API vouched for when it stored them (None
        when it left none). A missing object may have been filed by the partition's
        previous owner (:class:`_FiledElsewhereError`); otherwise it is looked for again
        for ``missing_object_grace_s`` (a lagging store replica), then dead-lettered. One
        over ``MAX_CONTENT_LENGTH`` is :class:`ObjectTooLargeError`, unread."""
        key, limit = event.object.key, self._settings.max_content_length
        give_up_at = time.monotonic() + self._settings.missing_object_grace_s
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._step(
                    "fetch", lambda: self._store.fetch_vouched(key, max_bytes=limit), claim
                )
            except ObjectMissingError as exc:
                await self._raise_if_filed(event.image_id, claim)
                if time.monotonic() >= give_up_at:
                    raise GaveUpError(DeadLetterReason.OBJECT_MISSING, attempt, exc) from exc
                await self._policy.pause("fetch_missing", attempt, exc, claim)

    async def _file(
        self, event: ImageSubmitted, outcome: Outcome, data: bytes, claim: Claim
    ) -> None:
        """Tag the photo with ``outcome``. When it vanished since it was fetched, the
        previous owner of the partition may have finished it; else store the bytes held."""
        source = event.object.key
        try:
            await self._mark(source, outcome, claim)
        except ObjectMissingError:
            await self._raise_if_filed(event.image_id, claim)
            kind, key, tags = event.object.content_type, current_key(source), verdict_tags(outcome)
            await self._step("file", lambda: self._store.put(key, data, kind, tags), claim)

    async def _mark(self, source: str, outcome: Outcome, claim: Claim) -> None:
        """Tag the photo at ``source`` with ``outcome``, or, for an upload of the layout
        before, copy it with those tags to its ``photos/`` key (the caller deletes it)."""
        target, tags = current_key(source), verdict_tags(outcome)
        if target == source:
            await self._step("file", lambda: self._store.tag(source, tags), claim)
        else:
            await self._step("file", lambda: self._store.copy(source, target, tags), claim)

    async def _raise_if_filed(self, image_id: str, claim: Claim) -> None:
        stored = await self._stored_verdict(image_id, claim)
        if stored is not None:
            logger.info("submission already filed by another replica", extra={"image_id": image_id})
            raise _FiledElsewhereError(stored[0])

    async def _dead_letter(
        self, record: ConsumerRecord, image_id: str | None, why: GaveUpError, claim: Claim
    ) -> None:
        letter = DeadLetter(
            image_id=image_id,
            failed_at=datetime.now(UTC),
            reason=why.reason,
            error=str(why),
            attempts=why.attempts,
            source=SourceRecord(
                topic=record.topic, partition=record.partition, offset=record.offset
            ),
            payload=bytes(record.value or b"").decode("utf-8", errors="replace"),
        )
        body, topic = letter.model_dump_json().encode(), self._settings.topic_dlq
        await self._step(
            "publish_dlq", lambda: self._publisher.publish(topic, record.key, body), claim
        )
        self._metrics.dlq_messages.labels(why.reason.value).inc()
        logger.error(
            "event dead-lettered",
            extra={"image_id": image_id, "reason": why.reason.value, "error": str(why)},
        )


class _Message(NamedTuple):
    """One Kafka message the pipeline publishes."""

    topic: str
    key: bytes | None
    value: bytes


class UntrustedEventError(Exception):
    """The event names an object this consumer must not touch."""


class _FiledElsewhereError(Exception):
    """Another replica (the partition's previous owner) stored this event's verdict."""

    def __init__(self, body: bytes) -> None:
        super().__init__("verdict already stored")
        self.body = body


async def _matches(data: bytes, vouched: str | None, ref: ObjectRef) -> bool:
    """Whether ``data`` is what ``ref`` announces: its size, then its SHA-256.

    The digest the API kept with the object when it stored these bytes (``vouched``) is
    the store's word for them, which an event alone cannot forge, so it is compared
    instead of hashing the photo again (1.5 ms of a replica's CPU for a 3 MB photo). Bytes
    without it (an upload in several parts, a copy) are hashed, off the loop: about 15 ms
    for 30 MB.
    """
    if len(data) != ref.size_bytes:
        return False
    if vouched is not None:
        return vouched == ref.sha256
    digest = await asyncio.to_thread(lambda: hashlib.sha256(data).hexdigest())
    return digest == ref.sha256


def _jpeg_ref(bucket: str, key: str, data: bytes) -> ObjectRef:
    return ObjectRef(
        bucket=bucket,
        key=key,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content_type="image/jpeg",
        format="jpeg",
    )
