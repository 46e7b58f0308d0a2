"""Exact duplicates on the real stack: the same bytes uploaded twice are scored once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from minio import Minio

from core.events import VerdictEvent
from runtime.layout import Folder
from tests.builders import images
from tests.builders.stream import ApiProcess, Stream, read_all
from tests.builders.stream_fixtures import StartConsumer
from tests.e2e.photos import distinct_photos
from tests.e2e.test_subscribers import _tail as tail

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_the_same_bytes_twice_give_one_scoring_and_two_verdicts_the_second_a_duplicate(
    stream: Stream, api: ApiProcess, start_consumer: StartConsumer
) -> None:
    replica = start_consumer()
    photo = distinct_photos()[0]
    first = api.submit(photo)
    read_all(stream.bootstrap_servers, stream.verdicts, expect=1, timeout_s=60, settle_s=0)
    second = api.submit(photo)

    messages = read_all(stream.bootstrap_servers, stream.verdicts, expect=2, timeout_s=60)

    # Keyed by image id over three partitions: the topic does not keep the two in order.
    by_id = {e.image_id: e for e in (VerdictEvent.model_validate_json(v) for _k, v in messages)}
    assert len(messages) == 2
    original, repeated = by_id[first], by_id[second]
    assert original.duplicate_of is None
    assert repeated.duplicate_of == first
    assert (repeated.outcome, repeated.score, repeated.checks, repeated.rules) == (
        original.outcome,
        original.score,
        original.checks,
        original.rules,
    )
    assert api.client.get(f"/v2/images/{second}").json()["duplicate_of"] == first
    assert replica.metric("civicqc_scoring_duration_seconds", "_count") == 1
    assert replica.metric("civicqc_duplicate_verdicts", "_total") == 1
    assert replica.images_scored() == 2
    only = tail(stream, "--from-beginning", "--duplicates", "only", "--timeout", "2")
    without = tail(stream, "--from-beginning", "--duplicates", "exclude", "--timeout", "2")
    assert [e["image_id"] for e in only] == [second]
    assert [e["image_id"] for e in without] == [first]


def test_a_copy_another_replica_scored_is_found_through_the_fingerprint_topic(
    stream: Stream,
    api: ApiProcess,
    start_consumer: StartConsumer,
    make_topic: Callable[..., str],
    s3_client: Minio,
) -> None:
    fingerprints = make_topic(1)
    replicas = [start_consumer(TOPIC_FINGERPRINTS=fingerprints) for _ in range(2)]
    for replica in replicas:
        replica.wait_for_log("fingerprint topic followed", timeout_s=30)
    photo = distinct_photos()[0]
    first = api.submit(photo)
    read_all(stream.bootstrap_servers, stream.verdicts, expect=1, timeout_s=60, settle_s=0)
    # The replica that scored the original stops: only the other one can take the copy.
    (scorer,) = [r for r in replicas if r.images_scored() == 1]
    assert scorer.terminate() == 0
    second = api.submit(photo)

    messages = read_all(stream.bootstrap_servers, stream.verdicts, expect=2, timeout_s=90)

    by_id = {e.image_id: e for e in (VerdictEvent.model_validate_json(v) for _k, v in messages)}
    assert (by_id[first].duplicate_of, by_id[second].duplicate_of) == (None, first)
    assert by_id[second].outcome == by_id[first].outcome
    (other,) = [r for r in replicas if r is not scorer]
    assert other.metric("civicqc_duplicate_verdicts", "_total") == 1
    assert other.metric("civicqc_scoring_duration_seconds", "_count") == 0
    records = s3_client.list_objects(stream.bucket, prefix=Folder.DIGESTS.prefix, recursive=True)
    assert [o.object_name for o in records] == [], "found in memory: no digests/ record"


def test_a_resized_copy_uploaded_later_is_listed_as_near_duplicate_on_another_replica(
    stream: Stream, api: ApiProcess, start_consumer: StartConsumer, make_topic: Callable[..., str]
) -> None:
    env = {"TOPIC_FINGERPRINTS": make_topic(1), "DEDUPE_EXACT": "false"}
    replicas = [start_consumer(**env), start_consumer(**env)]
    for replica in replicas:
        replica.wait_for_log("fingerprint topic followed", timeout_s=30)
    photo = images.real_photo("chelsea")
    height, width = photo.shape[:2]
    first = api.submit(images.encode(photo, quality=90))
    read_all(stream.bootstrap_servers, stream.verdicts, expect=1, timeout_s=60, settle_s=0)
    # The replica that scored the original stops: only the other one can score the copy.
    (scorer,) = [r for r in replicas if r.images_scored() == 1]
    assert scorer.terminate() == 0
    copy = images.encode(images.resized(photo, width // 2, height // 2), quality=70)
    second = api.submit(copy)

    messages = read_all(stream.bootstrap_servers, stream.verdicts, expect=2, timeout_s=90)

    by_id = {e.image_id: e for e in (VerdictEvent.model_validate_json(v) for _k, v in messages)}
    assert by_id[first].near_duplicates == []
    (match,) = by_id[second].near_duplicates or []
    assert match.image_id == first
    assert match.distance <= 16
    assert match.submitted_at == by_id[first].submitted_at
    assert by_id[second].duplicate_of is None
    (other,) = [r for r in replicas if r is not scorer]
    assert other.metric("civicqc_near_duplicate_verdicts", "_total") == 1
    assert other.metric("civicqc_near_duplicate_fingerprints") == 2  # the original and the copy
