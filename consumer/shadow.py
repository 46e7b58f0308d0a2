"""Shadow profiles: a tenant's candidate profile scored beside its live one, never acted on.

An operator names a candidate per tenant (``SHADOW_PROFILES``) and the share of that
tenant's photos to try it on (``SHADOW_SAMPLE_RATE``). For a sampled photo the worker
scores both profiles on one decode (:func:`core.score_pair`); the live verdict goes
out exactly as without a shadow, and only then the candidate's, as a
:class:`~core.events.ShadowVerdict` on its own topic, with metrics comparing the two.

Sampling is by image id, not by chance: every replica, and every redelivery of one
event, agrees on which photos are shadowed, so a rerun of ``civicqc shadow report``
sees the same set.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime

from core.events import ImageSubmitted, ShadowVerdict
from core.schema import Verdict

_SPAN = 2**64


def sampled(image_id: str, rate: float) -> bool:
    """Whether ``image_id`` falls in the first ``rate`` of the hash space (0: none, 1: all)."""
    if rate >= 1.0:
        return True
    if rate <= 0.0:
        return False
    head = hashlib.sha256(image_id.encode()).digest()[:8]
    return int.from_bytes(head, "big") < rate * _SPAN


class ShadowProfiles:
    """Which photos get a candidate verdict, and the event that carries it."""

    def __init__(self, candidates: Mapping[str, str], sample_rate: float, topic: str) -> None:
        """``candidates``: tenant -> candidate profile name; tenants not named have none."""
        self._candidates = dict(candidates)
        self._rate = sample_rate
        self.topic = topic

    def candidate_for(self, event: ImageSubmitted) -> str | None:
        """The candidate profile to score ``event``'s photo with too, if it is sampled."""
        candidate = self._candidates.get(event.metadata.tenant)
        if candidate is None or not sampled(event.image_id, self._rate):
            return None
        return candidate

    @staticmethod
    def event(
        event: ImageSubmitted, live: Verdict, shadow: Verdict, scored_at: datetime
    ) -> ShadowVerdict:
        return ShadowVerdict.of(
            shadow,
            live_rules=live.profile,
            image_id=event.image_id,
            submitted_at=event.submitted_at,
            scored_at=scored_at,
            tenant=event.metadata.tenant,
        )
