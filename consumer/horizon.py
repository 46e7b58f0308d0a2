"""How far into a partition the group may have started work, committed with its offset.

A redelivered event must republish its stored verdict byte for byte, so before scoring
an event the pipeline reads ``verdicts/{id}.json``; for a new event that read is a miss,
one object-store request per photo for nothing. An event can only have a stored verdict
if some replica started it before, and the group knows which ones may have: a replica
commits, as the metadata of each offset commit, a *horizon*: an offset no replica of the
group has started an event at or past. It keeps that true by starting an event only
below a horizon already committed: before it takes an event past it, it commits one
``STEP`` offsets further (one commit per ``STEP`` events, not per event). The commit is
fenced by the group's generation, so a replica that lost the partition cannot move it.

The next owner of the partition reads that horizon when it takes its first events
(:attr:`Horizon.fresh_from`): events below it may have a stored verdict and are looked
up as before; events at or past it were started by nobody and skip the read. Where no
horizon was committed (a new group, offsets reset, a replica of a version before this
one committed last), the partition's log end at that moment serves: no replica can have
started an event that did not exist yet.
"""

from __future__ import annotations

#: How far past the event it is about to take a replica moves the horizon: one commit
#: per this many events, and at most this many more lookups for the partition's next owner.
STEP = 256
_PREFIX = "civicqc-horizon="


def encode(horizon: int) -> str:
    """The commit metadata that carries ``horizon``."""
    return f"{_PREFIX}{horizon}"


def decode(metadata: str | None) -> int | None:
    """The horizon in commit metadata; None when it holds none (empty, or someone else's)."""
    if not metadata or not metadata.startswith(_PREFIX):
        return None
    try:
        value = int(metadata.removeprefix(_PREFIX))
    except ValueError:
        return None
    return value if value >= 0 else None


class Horizon:
    """One assignment's view: what earlier owners may have started, and what this one may."""

    def __init__(self, fresh_from: int) -> None:
        self.fresh_from = fresh_from
        """Events at or past this offset were started by no owner before this assignment."""
        self.reserved = fresh_from
        """Events below this offset may start now: a committed horizon covers them."""
        self.announced = fresh_from
        """The furthest horizon this replica has tried to commit: what every commit carries
        (a horizon further than needed only costs the next owner lookups)."""

    def fresh(self, offset: int) -> bool:
        """Whether no earlier owner can have started (and stored a verdict for) ``offset``."""
        return offset >= self.fresh_from

    def covers(self, offset: int) -> bool:
        return offset < self.reserved

    def ahead_of(self, offset: int) -> int:
        """The horizon to commit before taking ``offset``; announced from now on."""
        self.announced = max(self.announced, offset + 1 + STEP)
        return self.announced

    def committed(self, horizon: int) -> None:
        self.reserved = max(self.reserved, horizon)
