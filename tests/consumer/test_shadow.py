"""Shadow profiles on in-memory fakes: sampling, the shadow event, and the live verdict kept."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from consumer import worker
from consumer.shadow import ShadowProfiles, sampled
from core import Outcome, Rules, builtin_profile, score
from core.events import ShadowVerdict, VerdictEvent
from tests.builders.profiles import with_blur_threshold
from tests.consumer.test_pipeline import VERDICTS, Rig, photo

SHADOW = "t.verdicts.shadow"
LIVE = builtin_profile("default")


def candidate() -> Rules:
    """The default profile with its blur threshold just above :func:`photo`'s sharpness."""
    sharpness = score(photo(), LIVE).checks["blur"].values["sharpness"]
    assert isinstance(sharpness, float)
    return with_blur_threshold(LIVE, sharpness + 0.5, name="default-next", version="2026.12.1")


def shadow_rig(rate: float = 1.0, **settings: Any) -> Rig:
    rig = Rig(**settings)
    rig.scorer.profiles["default-next"] = candidate()
    return rig.extended(shadow=ShadowProfiles({"default": "default-next"}, rate, SHADOW))


def _untimed(event: VerdictEvent) -> dict[str, Any]:
    data = event.model_dump(exclude={"timings", "scored_at", "image_id", "submitted_at"})
    for check in data["checks"].values():
        check.pop("duration_ms")
    data["object"].pop("key")
    return data


def test_sampling_is_decided_by_the_image_id_at_the_rate_asked() -> None:
    ids = [str(uuid.UUID(int=i * 7_919)) for i in range(4000)]
    chosen = [i for i in ids if sampled(i, 0.25)]
    assert 0.22 < len(chosen) / len(ids) < 0.28
    assert chosen == [i for i in ids if sampled(i, 0.25)]
    assert set(chosen) <= {i for i in ids if sampled(i, 0.5)}, "a higher rate keeps the photos"
    assert not any(sampled(i, 0.0) for i in ids)
    assert all(sampled(i, 1.0) for i in ids)


async def test_a_shadowed_photo_gets_the_candidate_verdict_on_its_topic_after_the_live_one() -> (
    None
):
    rig, plain = shadow_rig(), Rig()
    event = rig.submitted(photo())
    await rig.handle(event.model_dump_json().encode())
    await plain.handle(plain.submitted(photo()).model_dump_json().encode())

    assert [topic for topic, _k, _v in rig.publisher.sent] == [VERDICTS, SHADOW]
    (live_body,), (plain_body,) = rig.publisher.on(VERDICTS), plain.publisher.on(VERDICTS)
    live = VerdictEvent.model_validate_json(live_body)
    assert _untimed(live) == _untimed(VerdictEvent.model_validate_json(plain_body))
    shadow = ShadowVerdict.model_validate_json(rig.publisher.on(SHADOW)[0])
    assert (shadow.image_id, shadow.tenant) == (event.image_id, "default")
    assert (shadow.rules.name, shadow.rules.version) == ("default-next", "2026.12.1")
    assert shadow.live_rules == live.rules
    assert (live.outcome, shadow.outcome) == (Outcome.ACCEPTED, Outcome.REJECTED)
    assert shadow.vetoed_by == ["blur"]
    assert rig.scorer.shadows == ["default-next"]
    labels = {"tenant": "default", "live_outcome": "accepted", "shadow_outcome": "rejected"}
    assert rig.sample("civicqc_shadow_verdicts_total", **labels) == 1
    assert rig.sample("civicqc_shadow_check_agreement_total", check="blur", agree="false") == 1
    assert rig.sample("civicqc_shadow_check_agreement_total", check="exposure", agree="true") == 1
    assert rig.sample("civicqc_images_scored_total", verdict="accepted", tenant="default") == 1


async def test_a_shadow_topic_that_fails_costs_the_live_verdict_nothing() -> None:
    rig = shadow_rig()
    rig.publisher.down_topics.add(SHADOW)
    event = rig.submitted(photo())

    await rig.handle(event.model_dump_json().encode())

    (live,) = (VerdictEvent.model_validate_json(v) for v in rig.publisher.on(VERDICTS))
    assert (live.image_id, live.outcome) == (event.image_id, Outcome.ACCEPTED)
    assert rig.publisher.on(SHADOW) == []
    assert rig.sample("civicqc_shadow_failures_total", stage="publish") == 1
    assert rig.sample("civicqc_retries_total", operation="publish") == 0
    assert rig.sample("civicqc_shadow_verdicts_total", **_any_outcomes()) == 0


def _any_outcomes() -> dict[str, str]:
    return {"tenant": "default", "live_outcome": "accepted", "shadow_outcome": "rejected"}


async def test_other_tenants_and_unsampled_photos_are_scored_with_the_live_profile_only() -> None:
    rig = shadow_rig(rate=0.0)
    await rig.handle(rig.submitted(photo()).model_dump_json().encode())
    others = shadow_rig()
    await others.handle(others.submitted(photo(), tenant="ogdenville").model_dump_json().encode())

    for one in (rig, others):
        assert one.scorer.shadows == [None]
        assert one.publisher.on(SHADOW) == []
        assert len(one.publisher.on(VERDICTS)) == 1


def test_a_candidate_that_fails_in_the_worker_leaves_the_live_verdict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Detection on without a detector: the engine refuses the candidate, as a wiring bug would.
    broken = Rules.model_validate(
        {
            **LIVE.model_dump(),
            "name": "broken",
            "detector": {"model": "none.onnx"},
            "checks": {**LIVE.checks.model_dump(), "privacy": {"weight": 5}},
        }
    )
    monkeypatch.setitem(worker._rulebook, "default", LIVE)
    monkeypatch.setitem(worker._rulebook, "broken", broken)

    scored = worker.score_task(worker.Task(photo(), "default", "img-1", "broken"))

    assert scored.shadow is None
    assert scored.shadow_error is not None and scored.shadow_error.startswith("ValueError")
    alone = score(photo(), LIVE)
    assert (scored.verdict.verdict, scored.verdict.score) == (alone.verdict, alone.score)
    assert scored.verdict.verdict is Outcome.ACCEPTED
