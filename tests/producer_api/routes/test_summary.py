"""GET /v1/summary: fleet-wide counts from the verdict topic, identical on every replica."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from civicqc.stack import kafka
from core import builtin_profile, score
from core.events import SubmissionMetadata, VerdictEvent
from core.schema import Outcome, Verdict
from producer_api.tally import DAY_S, VerdictFollower, VerdictTally
from runtime.ids import new_image_id
from runtime.kafka_connection import kafka_connection
from tests.builders.refs import jpeg_ref
from tests.builders.stream import publish
from tests.producer_api.conftest import LiveApi, jpeg_bytes


def test_summary_is_503_until_the_topic_was_read(offline_client: TestClient) -> None:
    response = offline_client.get("/v1/summary")
    assert response.status_code == 503
    assert response.json()["code"] == "summary_unavailable"


def _verdict(tenant: str, outcome: Outcome, scored_at: datetime, image_id: str) -> VerdictEvent:
    base = _scored()
    return VerdictEvent.of(
        image_id=image_id,
        submitted_at=scored_at - timedelta(seconds=1),
        scored_at=scored_at,
        metadata=SubmissionMetadata(tenant=tenant),
        object=jpeg_ref(f"x/{image_id}.jpg"),
        verdict=base.model_copy(update={"verdict": outcome, "image_id": image_id}),
    )


_SCORED: list[Verdict] = []


def _scored() -> Verdict:
    """One real scoring run, reused: only the outcome matters here."""
    if not _SCORED:
        _SCORED.append(score(jpeg_bytes(), builtin_profile("default")))
    return _SCORED[0]


def _wait_summary(live: LiveApi, total: int, timeout_s: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        response = live.client.get("/v1/summary")
        if response.status_code == 200:
            body: dict[str, Any] = response.json()
            if body["complete"] and body["last_day"]["total"] >= total:
                return body
        if time.monotonic() > deadline:
            raise TimeoutError(response.text)
        time.sleep(0.3)


@pytest.mark.integration
def test_two_replicas_agree_on_deduplicated_counts(make_live_api: Callable[..., LiveApi]) -> None:
    first = make_live_api()
    now = datetime.now(UTC)
    events = [
        _verdict("springfield", Outcome.ACCEPTED, now, str(new_image_id())),
        _verdict("springfield", Outcome.REJECTED, now, str(new_image_id())),
        _verdict("shelbyville", Outcome.ACCEPTED, now - timedelta(hours=3), str(new_image_id())),
        _verdict("shelbyville", Outcome.ERROR, now - timedelta(days=2), str(new_image_id())),
    ]
    duplicate = events[0]  # at-least-once: the same verdict published twice
    messages = [(e.image_id.encode(), e.model_dump_json().encode()) for e in [*events, duplicate]]
    asyncio.run(
        publish(first.settings.kafka_bootstrap_servers, first.settings.topic_verdicts, messages)
    )

    second = make_live_api(like=first)  # starts after the events: must read them back
    for live in (first, second):
        body = _wait_summary(live, total=3)
        assert body["last_day"]["total"] == 3
        assert body["last_day"]["accepted"] == 2
        assert body["last_day"]["acceptance_rate"] == pytest.approx(2 / 3)
        assert body["last_hour"]["total"] == 2
        assert body["last_hour"]["acceptance_rate"] == pytest.approx(0.5)
        assert body["last_day"]["by_tenant"]["shelbyville"]["accepted"] == 1
        assert body["last_hour"]["by_tenant"].keys() == {"springfield"}


@pytest.mark.integration
def test_a_replica_started_before_its_topic_exists_follows_it_once_created(
    kafka_bootstrap_servers: str,
) -> None:
    """The follower asks the cluster for the topic's partitions (admin metadata) until
    there are some, then reads from them: an API may start before the topics are made."""
    topic = f"t.verdicts.later.{new_image_id().hex[:10]}"
    follower = VerdictFollower(
        kafka_connection(kafka_bootstrap_servers), topic, VerdictTally(), client_id="t-later"
    )
    event = _verdict("springfield", Outcome.ACCEPTED, datetime.now(UTC), str(new_image_id()))

    async def scenario() -> int:
        following = asyncio.create_task(follower.run())
        try:
            await asyncio.sleep(1.0)
            assert not following.done() and not follower.complete
            await kafka.create_topics(kafka_bootstrap_servers, {topic: 2})
            message = [(event.image_id.encode(), event.model_dump_json().encode())]
            await publish(kafka_bootstrap_servers, topic, message)
            deadline = time.monotonic() + 30
            while follower.tally.window(time.time(), DAY_S).total < 1:
                assert time.monotonic() < deadline, "the verdict was never counted"
                await asyncio.sleep(0.2)
            return follower.tally.window(time.time(), DAY_S).accepted
        finally:
            following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await following
            await kafka.delete_topics(kafka_bootstrap_servers, [topic])

    assert asyncio.run(scenario()) == 1
