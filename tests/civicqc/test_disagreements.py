"""What ``civicqc shadow report`` says of a photo: the checks that differ, and why."""

from __future__ import annotations

from datetime import UTC, datetime

from civicqc.disagreements import disagreement
from core import Rules, builtin_profile, score
from core.events import ShadowVerdict, SubmissionMetadata, VerdictEvent
from tests.builders import images
from tests.builders.profiles import with_blur_threshold
from tests.builders.refs import jpeg_ref

LIVE = builtin_profile("default")
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
PHOTO = images.encode(images.sharp_photo(1600, 1200, "coffee"))


def _pair(candidate: Rules) -> tuple[VerdictEvent, ShadowVerdict]:
    live = score(PHOTO, LIVE)
    event = VerdictEvent.of(
        live,
        image_id="img-1",
        submitted_at=NOW,
        scored_at=NOW,
        metadata=SubmissionMetadata(tenant="springfield"),
        object=jpeg_ref("k"),
    )
    shadow = ShadowVerdict.of(
        score(PHOTO, candidate),
        live_rules=live.profile,
        image_id="img-1",
        submitted_at=NOW,
        scored_at=NOW,
        tenant="springfield",
    )
    return event, shadow


def test_a_moved_blur_threshold_is_named_with_the_value_it_split() -> None:
    candidate = with_blur_threshold(LIVE, 60.0, name="strict", version="2")

    found = disagreement(*_pair(candidate))

    assert found is not None and found.outcome_differs
    (blur,) = found.checks
    assert blur.check == "blur"
    lines = found.describe()
    assert lines[0] == (
        f"img-1 tenant springfield: live default {LIVE.version} accepted 90.0"
        f" -> shadow strict 2 rejected {found.shadow.score}"
    )
    assert lines[1].startswith("    blur: live passed (sharp), shadow failed (too_blurry); ")
    assert lines[1].endswith(f"; min_sharpness {LIVE.checks.blur.threshold} -> 60.0")
    # The live value it split, as the live verdict reported it (about 43: sharp).
    measured = score(PHOTO, LIVE).checks["blur"].values["sharpness"]
    assert isinstance(measured, float) and 40 < measured < 60.0
    assert f"sharpness {measured}" in lines[1]


def test_profiles_that_judge_every_check_alike_do_not_disagree() -> None:
    candidate = with_blur_threshold(LIVE, 20.0, name="lenient", version="2")
    assert disagreement(*_pair(candidate)) is None


def test_a_check_only_one_profile_runs_is_listed_though_the_outcome_is_the_same() -> None:
    candidate = LIVE.model_copy(
        update={
            "name": "no-compression",
            "checks": LIVE.checks.model_copy(update={"compression": None}),
        }
    )

    found = disagreement(*_pair(candidate))

    assert found is not None and not found.outcome_differs
    (compression,) = found.checks
    assert compression.check == "compression"
    assert compression.describe().startswith("compression: live passed (ok), shadow did not run it")
