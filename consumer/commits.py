"""The group's committed offsets with their metadata, read through aiokafka's public admin API.

Two readers need more than ``AIOKafkaConsumer.committed()`` gives: the loop reads the
*horizon* a partition's previous owner kept in its commit's metadata (which ``committed()``
drops), and the lag reporter reads every owned partition's commit at once (where
``committed()`` sends a request per partition). An OffsetFetch from the admin client does
both, in one request, without reaching into the consumer's private coordinator.
"""

from __future__ import annotations

from collections.abc import Collection

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata, TopicPartition


class CommittedOffsets:
    """What ``group_id`` committed; an admin client the caller starts and closes."""

    def __init__(self, admin: AIOKafkaAdminClient, group_id: str) -> None:
        self._admin = admin
        self._group_id = group_id

    async def read(
        self, partitions: Collection[TopicPartition]
    ) -> dict[TopicPartition, OffsetAndMetadata]:
        """The commit of each of ``partitions`` (offset -1 and no metadata: none yet).

        Raises aiokafka's ``KafkaError`` when the group's coordinator cannot answer; the
        callers treat that as "not now".
        """
        found: dict[
            TopicPartition, OffsetAndMetadata
        ] = await self._admin.list_consumer_group_offsets(
            self._group_id, partitions=list(partitions)
        )
        return found
