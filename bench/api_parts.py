"""What an upload's two dependency calls cost the API process: the object-store PUT and the publish.

Run against ``civicqc stack up`` (any stack folder's ``stack.env``)::

    python -m bench.api_parts --env-file .stack/stack.env

``bench.upload_cost`` measures a whole upload in the API process; this measures, in
this process and on uvloop (as uvicorn runs the API), the two calls every upload
makes whatever its size, so its per-request figure can be split: a tiny body
stored whole (as an upload that fits one part is) through the API's own store
client (:func:`producer_api.storage.open_store`, with the pending tags), and one
``ImageSubmitted`` event through :class:`producer_api.publisher.Publisher` (to a
scratch topic, ``bench-api-parts``, so no consumer scores it). The two take turns
``--rounds`` times; each figure is the median of the rounds.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import uvloop
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from pydantic import SecretStr

from bench.pipeline import _env_file
from core.events import ImageSubmitted, ObjectRef, SubmissionMetadata
from producer_api.publisher import Publisher
from producer_api.settings import Settings
from producer_api.storage import open_store
from producer_api.submissions import PENDING_TAGS
from runtime.ids import issued_at, new_image_id
from runtime.object_store import ObjectStore

_TOPIC = "bench-api-parts"
_TINY = b"\xff\xd8\xff" + b"\x00" * 2_000


def _event() -> ImageSubmitted:
    image_id = new_image_id()
    submitted_at = issued_at(image_id)
    assert submitted_at is not None
    ref = ObjectRef(
        bucket="bench",
        key=f"bench-api-parts/{image_id}.jpg",
        size_bytes=len(_TINY),
        sha256="0" * 64,
        content_type="image/jpeg",
        format="jpeg",
    )
    return ImageSubmitted(
        image_id=str(image_id),
        submitted_at=submitted_at,
        object=ref,
        metadata=SubmissionMetadata(tenant="default"),
    )


async def _put_tiny(store: ObjectStore, index: int) -> None:
    key = f"bench-api-parts/{index}.jpg"
    await store.put_whole(key, [_TINY], "image/jpeg", PENDING_TAGS)


async def _cpu_ms(call: Callable[[int], Awaitable[None]], count: int) -> float:
    """This process's CPU ms per ``call``, one at a time (as one upload makes it)."""
    started = time.process_time()
    for index in range(count):
        await call(index)
    return (time.process_time() - started) / count * 1000


async def _scratch_topic(bootstrap_servers: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(_TOPIC, num_partitions=1, replication_factor=1)])
    except TopicAlreadyExistsError:
        pass
    finally:
        await admin.close()


async def run(args: argparse.Namespace) -> None:
    env = _env_file(args.env_file)
    settings = Settings(
        kafka_bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
        s3_endpoint=env["S3_ENDPOINT"],
        s3_access_key=SecretStr(env["S3_ACCESS_KEY"]),
        s3_secret_key=SecretStr(env["S3_SECRET_KEY"]),
        s3_bucket=env["S3_BUCKET"],
        auth_enabled=False,
    )
    await _scratch_topic(settings.kafka_bootstrap_servers)
    publisher = Publisher(
        settings.kafka(), _TOPIC, client_id="bench-api-parts", send_timeout_s=10.0
    )
    await publisher.start()
    store = open_store(settings)

    async def publish(_index: int) -> None:
        await publisher.publish_submitted(_event())

    async def put(index: int) -> None:
        await _put_tiny(store, index)

    calls = {"tiny PUT (store client)": put, "publish (Kafka producer)": publish}
    figures: dict[str, list[float]] = {name: [] for name in calls}
    try:
        for call in calls.values():
            await _cpu_ms(call, args.warmup)
        for turn in range(args.rounds):
            for name, call in calls.items() if turn % 2 == 0 else reversed(calls.items()):
                figures[name].append(await _cpu_ms(call, args.count))
    finally:
        await publisher.stop()
        store.close()
    for name, rounds in figures.items():
        each = ", ".join(f"{ms:.2f}" for ms in rounds)
        print(f"{name:<26} {statistics.median(rounds):.2f} ms CPU per call (rounds {each})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--env-file", type=Path, required=True, help="stack.env of a stack")
    parser.add_argument("--count", type=int, default=300, help="calls per round")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    uvloop.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
