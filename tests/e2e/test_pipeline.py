"""The whole stream with two consumer processes: every submission gets its verdict.

Delivery is at least once and verdicts are idempotent by image id: a redelivered event
republishes the stored verdict byte for byte. So without faults each id must appear
exactly once on the topic; after ``kill -9`` duplicates may appear, but all copies of
an id must be identical, and subscribers dedupe by ``image_id``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
from minio import Minio

from consumer.settings import ConsumerSettings
from core import score
from core.events import ImageSubmitted, VerdictEvent
from runtime.layout import Folder, verdict_tags
from runtime.rulebook import load_rulebook, profile_for_tenant
from tests.builders.stream import (
    ApiProcess,
    Stream,
    publish_events,
    read_all,
    stored_submission,
)
from tests.builders.stream_fixtures import StartConsumer
from tests.e2e.photos import corpus

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TENANT_PROFILES = {"springfield": "reference"}


def submit_all(stream: Stream, s3: Minio, blobs: list[bytes]) -> dict[str, tuple[bytes, str]]:
    """Submit every blob, alternating tenants; returns id -> (bytes, tenant)."""
    events: list[ImageSubmitted] = []
    sent: dict[str, tuple[bytes, str]] = {}
    for i, blob in enumerate(blobs):
        tenant = "springfield" if i % 2 else "default"
        event = stored_submission(s3, stream.bucket, blob, tenant=tenant)
        events.append(event)
        sent[event.image_id] = (blob, tenant)
    publish_events(stream.bootstrap_servers, stream.submitted, events)
    return sent


def grouped(messages: list[tuple[bytes | None, bytes]]) -> dict[str, list[bytes]]:
    by_id: dict[str, list[bytes]] = defaultdict(list)
    for key, value in messages:
        event = VerdictEvent.model_validate_json(value)
        assert key == event.image_id.encode()
        by_id[event.image_id].append(value)
    return by_id


def consumer_env() -> dict[str, str]:
    return {"TENANT_PROFILES": json.dumps(TENANT_PROFILES)}


def test_two_consumers_give_every_photo_one_verdict_equal_to_core_score(
    stream: Stream, s3_client: Minio, api: ApiProcess, start_consumer: StartConsumer
) -> None:
    for _ in range(2):
        start_consumer(**consumer_env())
    blobs = corpus(200)
    tenants = ["springfield" if i % 2 else "default" for i in range(len(blobs))]
    with ThreadPoolExecutor(max_workers=8) as uploads:
        ids = list(uploads.map(api.submit, blobs, tenants))
    sent = dict(zip(ids, zip(blobs, tenants, strict=True), strict=True))

    by_id = grouped(read_all(stream.bootstrap_servers, stream.verdicts, expect=200, timeout_s=120))

    assert set(by_id) == set(sent)
    assert {i: len(v) for i, v in by_id.items() if len(v) != 1} == {}
    settings = ConsumerSettings(tenant_profiles=TENANT_PROFILES)
    rulebook = load_rulebook(settings)
    for image_id, (blob, tenant) in sent.items():
        (payload,) = by_id[image_id]
        got = VerdictEvent.model_validate_json(payload)
        status = api.client.get(f"/v2/images/{image_id}").json()
        del status["id"], status["status"]
        assert VerdictEvent.model_validate(status) == got
        expected = score(blob, rulebook[profile_for_tenant(settings, tenant)], image_id=image_id)
        assert got.metadata.tenant == tenant
        assert (got.outcome, got.score) == (expected.verdict, expected.score)
        assert {n: c.passed for n, c in got.checks.items()} == {
            n: c.passed for n, c in expected.checks.items()
        }
        assert got.rules == expected.profile
        assert got.object.key.startswith(Folder.PHOTOS.prefix)
        tags = s3_client.get_object_tags(stream.bucket, got.object.key)
        assert dict(tags or {}) == verdict_tags(got.outcome)
    photos = list(
        s3_client.list_objects(stream.bucket, prefix=Folder.PHOTOS.prefix, recursive=True)
    )
    assert len(photos) == 200, "every photo stays where it was uploaded"


def test_kill_9_of_one_consumer_loses_no_verdict(
    stream: Stream, s3_client: Minio, start_consumer: StartConsumer
) -> None:
    # Events go straight to Kafka here: this test is about the consumers, not the API.
    # Slow the stream a little (one in flight each) so the kill lands mid-stream.
    victim = start_consumer(MAX_IN_FLIGHT="1")
    start_consumer(MAX_IN_FLIGHT="1")
    sent = submit_all(stream, s3_client, corpus(150))
    early = read_all(stream.bootstrap_servers, stream.verdicts, expect=30, timeout_s=60, settle_s=0)
    victim.kill()
    assert len(early) < len(sent), "the kill must land mid-stream"

    by_id = grouped(read_all(stream.bootstrap_servers, stream.verdicts, expect=150, timeout_s=120))

    assert set(by_id) == set(sent)
    assert all(len(set(copies)) == 1 for copies in by_id.values()), "duplicates must be identical"
    for copies in by_id.values():
        got = VerdictEvent.model_validate_json(copies[0])
        tags = s3_client.get_object_tags(stream.bucket, got.object.key)
        assert dict(tags or {}) == verdict_tags(got.outcome), "every photo is tagged"


def test_a_replica_joining_mid_stream_neither_loses_nor_repeats_a_verdict(
    stream: Stream, s3_client: Minio, start_consumer: StartConsumer
) -> None:
    start_consumer(MAX_IN_FLIGHT="1")
    photos = corpus(150)
    sent = submit_all(stream, s3_client, photos[:100])
    read_all(stream.bootstrap_servers, stream.verdicts, expect=10, timeout_s=60, settle_s=0)
    joiner = start_consumer(MAX_IN_FLIGHT="1")  # the group rebalances while work is in flight
    # On a fast run the first replica could drain everything before the joiner is
    # assigned; the rest arrives after the rebalance, so the joiner surely gets work.
    joiner.wait_for_log("partitions assigned", timeout_s=60)
    sent |= submit_all(stream, s3_client, photos[100:])

    by_id = grouped(read_all(stream.bootstrap_servers, stream.verdicts, expect=150, timeout_s=120))

    assert set(by_id) == set(sent)
    assert {i: len(v) for i, v in by_id.items() if len(v) != 1} == {}
    assert joiner.images_scored() > 0, "the rebalance must land mid-stream"
