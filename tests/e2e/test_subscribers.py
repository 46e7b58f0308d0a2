"""What a downstream team relies on: a third-party client reads the topic, the JSON
matches the published schema, and the shipped ``civicqc verdicts tail`` filters work."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from minio import Minio

from civicqc.schemas import SCHEMA_DIR
from consumer.settings import ConsumerSettings
from runtime.settings import CommonSettings
from tests.builders import images
from tests.builders.stream import (
    Stream,
    civicqc,
    publish_events,
    read_all,
    stored_submission,
)
from tests.builders.stream_fixtures import StartConsumer

ASYNCAPI = SCHEMA_DIR.parent / "asyncapi.yaml"


def test_asyncapi_names_the_default_topics_and_existing_schemas() -> None:
    doc = yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))
    defaults = CommonSettings.model_fields
    addresses = {channel["address"] for channel in doc["channels"].values()}
    topics = ("topic_submitted", "topic_verdicts", "topic_dlq", "topic_verdicts_shadow")
    assert addresses == {defaults[name].default for name in topics} | {
        ConsumerSettings.model_fields["topic_fingerprints"].default
    }
    for message in doc["components"]["messages"].values():
        assert (ASYNCAPI.parent / message["payload"]["$ref"]).is_file()


@pytest.mark.integration
def test_kcat_reads_verdicts_that_validate_and_tail_filters_them(
    stream: Stream, s3_client: Minio, start_consumer: StartConsumer
) -> None:
    kcat = shutil.which("kcat")
    assert kcat is not None, "kcat is installed by `civicqc stack install` (Debian package)"
    start_consumer()
    blobs = [images.encode(images.sharp_photo(640, 480)), b"\xff\xd8\xff broken", b"GIF89a"]
    events = [stored_submission(s3_client, stream.bucket, b, tenant="springfield") for b in blobs]
    publish_events(stream.bootstrap_servers, stream.submitted, events)
    read_all(stream.bootstrap_servers, stream.verdicts, expect=len(events), timeout_s=60)

    argv = [kcat, "-b", stream.bootstrap_servers, "-C", "-t", stream.verdicts, "-o", "beginning"]
    out = subprocess.run(
        [*argv, "-e", "-q", "-f", "%k\t%s\n"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    validator = Draft202012Validator(
        json.loads((SCHEMA_DIR / "verdict-event.schema.json").read_text(encoding="utf-8"))
    )
    lines = out.splitlines()
    assert len(lines) == len(events)
    for line in lines:
        key, value = line.split("\t", 1)
        payload = json.loads(value)
        assert list(validator.iter_errors(payload)) == []
        assert payload["image_id"] == key

    errors = _tail(stream, "--from-beginning", "--verdict", "error", "--max", "2")
    assert {e["outcome"] for e in errors} == {"error"}
    assert {e["schema_version"] for e in errors} == {2}
    assert len(errors) == 2
    assert _tail(stream, "--from-beginning", "--tenant", "elsewhere", "--timeout", "2") == []


def _tail(stream: Stream, *args: str) -> list[dict[str, Any]]:
    out = civicqc(stream.env(), "verdicts", "tail", *args)
    return [json.loads(line) for line in out.splitlines()]
