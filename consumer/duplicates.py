"""Exact duplicates: identical bytes of one tenant, under the same rules, are scored once.

The API records each upload's SHA-256 in its event. A later event with the same tenant,
digest and rules (:func:`runtime.rulebook.rules_tag`: profile content, version and
engine) gets the first copy's verdict again, under its own id, metadata and filed
object, with ``duplicate_of`` naming the first copy. Scoring is deterministic, so the
reused verdict is the one scoring would have given. Where the first copy's verdict is
found:

- once the replica follows the fingerprint topic, from the copy keys of its in-memory
  indexes (:meth:`consumer.near.NearDuplicates.first_copy`), then
  ``verdicts/{first id}.json``: a photo seen for the first time costs no object-store
  request (this was 1.5-1.9 ms of a replica's CPU per photo, a fifth of what it adds to
  scoring). Copies are found while the first is indexed: 8 days, as near-duplicates;
- otherwise (the topic does not exist, or a replica has just started), from a record
  stored at ``digests/{tenant}/{rules}/{sha256}.json`` (:func:`runtime.layout.digest_key`)
  once a verdict is stored, as before.

A copy that arrives while the first is still pending (no verdict stored yet) is scored
on its own and is not marked: the record is written only after a verdict is stored,
and the copy that stores its record last is the one later duplicates name. ``error``
verdicts are not recorded: a photo that could not be scored within a budget may score
on another try.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from core.events import ImageSubmitted, VerdictEvent
from core.rules import Rules
from core.schema import Outcome, Verdict
from runtime.layout import digest_key
from runtime.rulebook import rules_tag


class ExactDuplicates:
    """Where the verdict of some bytes is on record, and the verdict a copy of them gets."""

    def __init__(self, rulebook: Mapping[str, Rules]) -> None:
        self._tags = {name: rules_tag(rules) for name, rules in rulebook.items()}

    def rules_of(self, profile: str) -> str | None:
        """The tag copies scored under ``profile`` share; ``None`` for an unknown profile."""
        return self._tags.get(profile)

    @staticmethod
    def record_key(event: ImageSubmitted, rules: str) -> str:
        """Where the verdict of ``event``'s bytes under ``rules`` is on record."""
        return digest_key(event.metadata.tenant, rules, event.object.sha256)

    @staticmethod
    def repeats(first: VerdictEvent, event: ImageSubmitted) -> bool:
        """Whether ``first`` is a verdict on the same bytes of the same tenant (a stale or
        forged pointer to another photo's verdict is not reused)."""
        return (
            first.object.sha256 == event.object.sha256
            and first.metadata.tenant == event.metadata.tenant
        )

    @staticmethod
    def worth_recording(verdict: Verdict) -> bool:
        """Only verdicts that scoring the same bytes again would repeat."""
        return verdict.verdict is not Outcome.ERROR

    @staticmethod
    def repeat(
        first: VerdictEvent, event: ImageSubmitted, filed: str, at: datetime
    ) -> VerdictEvent:
        """``first``'s verdict for ``event``: its own id, metadata, filed object and time."""
        return first.model_copy(
            update={
                "image_id": event.image_id,
                "submitted_at": event.submitted_at,
                "scored_at": at,
                "metadata": event.metadata,
                "object": event.object.model_copy(update={"key": filed}),
                "duplicate_of": first.image_id,
            }
        )
