"""SIGTERM: stop fetching, finish what is in flight, commit it, exit 0 — so a replacement
replica neither loses nor repeats a verdict."""

from __future__ import annotations

from collections import Counter

import pytest
from minio import Minio

from core.events import VerdictEvent
from tests.builders import images
from tests.builders.stream import Stream, publish_events, read_all, stored_submission
from tests.builders.stream_fixtures import StartConsumer

pytestmark = pytest.mark.integration


def test_sigterm_drains_commits_and_exits_0(
    stream: Stream, s3_client: Minio, start_consumer: StartConsumer
) -> None:
    photo = images.encode(images.sharp_photo(1024, 768))
    events = [stored_submission(s3_client, stream.bucket, photo) for _ in range(40)]
    first = start_consumer(MAX_IN_FLIGHT="4")
    publish_events(stream.bootstrap_servers, stream.submitted, events)
    read_all(stream.bootstrap_servers, stream.verdicts, expect=5, timeout_s=60, settle_s=0)

    assert first.terminate(timeout_s=30) == 0
    assert '"consumer stopped"' in first.log()
    start_consumer()
    found = read_all(stream.bootstrap_servers, stream.verdicts, expect=len(events), timeout_s=60)

    copies = Counter(VerdictEvent.model_validate_json(value).image_id for _k, value in found)
    assert set(copies) == {e.image_id for e in events}
    assert max(copies.values()) == 1, "a graceful stop must not cause redelivery"
