"""Exact duplicates on the real stack: the same bytes uploaded twice are scored once."""

from __future__ import annotations

import pytest

from core.events import VerdictEvent
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
    assert api.client.get(f"/v1/images/{second}").json()["duplicate_of"] == first
    assert replica.metric("civicqc_scoring_duration_seconds", "_count") == 1
    assert replica.metric("civicqc_duplicate_verdicts", "_total") == 1
    assert replica.images_scored() == 2
    only = tail(stream, "--from-beginning", "--duplicates", "only", "--timeout", "2")
    without = tail(stream, "--from-beginning", "--duplicates", "exclude", "--timeout", "2")
    assert [e["image_id"] for e in only] == [second]
    assert [e["image_id"] for e in without] == [first]
