"""Shadow profiles on the real stack: candidate verdicts on their topic, live ones unchanged."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core import Outcome, builtin_profile, score
from core.events import ShadowVerdict, VerdictEvent
from core.schema import CheckResult
from tests.builders import images
from tests.builders.profiles import profile_toml, with_blur_threshold
from tests.builders.stream import ApiProcess, Stream, civicqc, read_all
from tests.builders.stream_fixtures import StartConsumer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LIVE = builtin_profile("default")


def _checks(checks: dict[str, CheckResult]) -> dict[str, Any]:
    """Each check's result without its duration (a timing, not a result)."""
    return {name: check.model_dump(exclude={"duration_ms"}) for name, check in checks.items()}


def test_shadow_verdicts_appear_on_their_topic_and_the_live_ones_are_unchanged(
    stream: Stream,
    api: ApiProcess,
    start_consumer: StartConsumer,
    make_topic: Callable[..., str],
    tmp_path: Path,
) -> None:
    near = images.encode(images.sharp_photo(1600, 1200, "coffee"))
    blurred = images.encode(images.gaussian_blurred(images.real_photo("astronaut"), 4.0))
    sharpness = score(near, LIVE).checks["blur"].values["sharpness"]
    assert isinstance(sharpness, float)
    # The candidate's blur threshold sits just above the sharp photo's sharpness.
    candidate = with_blur_threshold(LIVE, sharpness + 0.5, name="default-next", version="2026.12.1")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "default-next.toml").write_text(profile_toml(candidate))
    shadow_topic = make_topic(1)
    replica = start_consumer(
        RULE_PROFILES_DIR=str(tmp_path / "profiles"),
        SHADOW_PROFILES=json.dumps({"default": "default-next"}),
        TOPIC_VERDICTS_SHADOW=shadow_topic,
    )
    sent = {api.submit(near): near, api.submit(blurred): blurred}

    lives = read_all(stream.bootstrap_servers, stream.verdicts, expect=2, timeout_s=90)
    shadows = read_all(stream.bootstrap_servers, shadow_topic, expect=2, timeout_s=30)

    live = {e.image_id: e for e in (VerdictEvent.model_validate_json(v) for _k, v in lives)}
    shadow = {e.image_id: e for e in (ShadowVerdict.model_validate_json(v) for _k, v in shadows)}
    assert len(lives) == len(shadows) == 2
    assert set(live) == set(shadow) == set(sent)
    for image_id, data in sent.items():
        alone = score(data, LIVE)
        assert (live[image_id].outcome, live[image_id].score) == (alone.verdict, alone.score)
        assert _checks(live[image_id].checks) == _checks(alone.checks)
        assert live[image_id].rules == alone.profile
        assert (shadow[image_id].rules.name, shadow[image_id].rules.version) == (
            "default-next",
            "2026.12.1",
        )
        assert shadow[image_id].live_rules == alone.profile
    near_id, blurred_id = sent
    assert (live[near_id].outcome, shadow[near_id].outcome) == (Outcome.ACCEPTED, Outcome.REJECTED)
    assert live[blurred_id].outcome is shadow[blurred_id].outcome is Outcome.REJECTED
    assert replica.metric("civicqc_shadow_verdicts", "_total") == 2
    assert replica.metric("civicqc_images_scored", "_total") == 2

    report = _shadow_report(stream, shadow_topic)
    assert report[0].startswith(f"{near_id} tenant default: live default {LIVE.version} accepted")
    assert report[1].startswith("    blur: live passed")
    assert "shadow failed" in report[1]
    assert f"min_sharpness {LIVE.checks.blur.threshold} -> {sharpness + 0.5}" in report[1]
    assert blurred_id not in "\n".join(report)
    assert report[-1] == (
        "2 shadowed photos compared: 1 disagree (1 on the outcome); 0 without a live verdict read"
    )
    none = (
        "0 shadowed photos compared: 0 disagree (0 on the outcome); 0 without a live verdict read"
    )
    assert _shadow_report(stream, shadow_topic, "--tenant", "elsewhere") == [none]
    assert _shadow_report(stream, f"{shadow_topic}.missing") == [none]


def _shadow_report(stream: Stream, shadow_topic: str, *args: str) -> list[str]:
    env = stream.env(TOPIC_VERDICTS_SHADOW=shadow_topic)
    return civicqc(env, "shadow", "report", "--timeout", "30", *args).splitlines()


def test_a_shadow_topic_that_does_not_exist_costs_the_live_verdicts_nothing(
    stream: Stream, api: ApiProcess, start_consumer: StartConsumer
) -> None:
    replica = start_consumer(
        SHADOW_PROFILES=json.dumps({"default": "reference"}),
        TOPIC_VERDICTS_SHADOW=f"{stream.verdicts}.no-such-topic",
    )
    photo = images.encode(images.sharp_photo(1280, 960, "astronaut"))
    image_id = api.submit(photo)

    (message,) = read_all(stream.bootstrap_servers, stream.verdicts, expect=1, timeout_s=60)

    verdict = VerdictEvent.model_validate_json(message[1])
    alone = score(photo, LIVE)
    assert (verdict.image_id, verdict.outcome, verdict.score) == (
        image_id,
        alone.verdict,
        alone.score,
    )
    deadline = time.monotonic() + 30
    while replica.metric("civicqc_shadow_failures", "_total") < 1 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert replica.metric("civicqc_shadow_failures", "_total") == 1
    assert replica.metric("civicqc_shadow_verdicts", "_total") == 0
    assert replica.metric("civicqc_dlq_messages", "_total") == 0
