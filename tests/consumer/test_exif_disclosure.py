"""The consumer applies EXIF_IN_VERDICTS where it builds the verdict event (core/privacy.py)."""

from __future__ import annotations

import pytest
from minio import Minio

from core.events import VerdictEvent
from runtime.layout import verdict_key
from tests.builders import images
from tests.builders.stream import Stream, publish_events, read_all, stored_submission
from tests.builders.stream_fixtures import StartConsumer

pytestmark = pytest.mark.integration


def test_verdict_events_carry_coarse_gps_by_default(
    stream: Stream, s3_client: Minio, start_consumer: StartConsumer
) -> None:
    photo = images.encode(
        images.resized(images.real_photo(), 640, 480),
        exif=images.exif_bytes(gps=(52.512345, 13.387654)),
    )
    start_consumer()
    first = stored_submission(s3_client, stream.bucket, photo)
    publish_events(stream.bootstrap_servers, stream.submitted, [first])
    ((_key, value),) = read_all(stream.bootstrap_servers, stream.verdicts, expect=1, timeout_s=60)
    gps = VerdictEvent.model_validate_json(value).exif
    assert gps is not None and gps.gps is not None
    assert (gps.gps.latitude, gps.gps.longitude) == (52.51, 13.39)
    stored = s3_client.get_object(stream.bucket, verdict_key(first.image_id)).read()
    assert stored == value, "GET /v2/images serves the same redacted verdict"
