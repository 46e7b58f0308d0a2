"""A replica's hold on one partition during one assignment of it.

Every event carries the claim of its partition. The loop releases a claim when the
replica stops or loses the partition in a rebalance; an event waiting out an outage
then gives up at once (:class:`consumer.retry.AbandonedError`) and stays uncommitted,
so the restarted replica or the partition's new owner does it again.
"""

from __future__ import annotations

from aiokafka.structs import TopicPartition

from consumer.horizon import Horizon
from consumer.offsets import PartitionOffsets


class Claim:
    """One assignment of ``partition``: its offsets, and whether it is still held.

    A new claim is made on every assignment, so a task still running for a partition
    this replica lost marks a discarded claim and never moves the new owner's commits.
    """

    def __init__(self, partition: TopicPartition) -> None:
        self.partition = partition
        self.offsets = PartitionOffsets()
        self.horizon: Horizon | None = None
        """Read when its first events are taken (:mod:`consumer.horizon`); None until then."""
        self._held = True

    @property
    def held(self) -> bool:
        return self._held

    def fresh(self, offset: int) -> bool:
        """Whether no replica can have started the event at ``offset`` before this one:
        it has no stored verdict to look for."""
        return self.horizon is not None and self.horizon.fresh(offset)

    def release(self) -> None:
        self._held = False
