"""Which offset of a partition is safe to commit when its events are done out of order.

Events of one partition run concurrently, so offset 7 may be done before offset 5.
Committing 8 then would skip 5 and 6 after a crash. Only the contiguous done
prefix is committed: the offset after the last event below which everything is done.
"""

from __future__ import annotations

from collections import deque


class PartitionOffsets:
    """Offsets taken from one partition during one assignment of it.

    A new instance is made each time the partition is assigned, so a task still
    running for a partition this replica lost marks a discarded instance and can
    never move the new owner's commit point.
    """

    def __init__(self) -> None:
        self._taken: deque[int] = deque()
        self._done: set[int] = set()
        self._safe: int | None = None
        self._committed: int | None = None

    def take(self, offset: int) -> None:
        """Record an event handed to a task; offsets arrive in increasing order."""
        if self._taken and offset <= self._taken[-1]:
            raise ValueError(f"offset {offset} after {self._taken[-1]}: not increasing")
        self._taken.append(offset)

    def done(self, offset: int) -> None:
        """Record an event whose outcome is published: its offset may be committed once every
        earlier taken offset is done too."""
        self._done.add(offset)
        while self._taken and self._taken[0] in self._done:
            first = self._taken.popleft()
            self._done.discard(first)
            self._safe = first + 1

    @property
    def outstanding(self) -> int:
        """Events taken and not done."""
        return len(self._taken) - len(self._done)

    def to_commit(self) -> int | None:
        """The next offset to commit, or None when nothing new is safe to commit."""
        if self._safe is None or (self._committed is not None and self._safe <= self._committed):
            return None
        return self._safe

    def commit_point(self, next_offset: int) -> int:
        """An offset safe to commit at any time: the first taken and not done, or
        ``next_offset`` (the one about to be taken) when every taken one is done."""
        return self._taken[0] if self._taken else next_offset

    def committed(self, offset: int) -> None:
        """Two commits may overlap (the loop's and a rebalance's): keep the furthest."""
        self._committed = offset if self._committed is None else max(self._committed, offset)
