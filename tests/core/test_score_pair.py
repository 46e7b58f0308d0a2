"""``core.score_pair``: a live and a candidate profile on one decode, each as if scored alone."""

from __future__ import annotations

from typing import Any

import pytest

import core.decode
import core.engine
from core import Outcome, builtin_profile, score, score_pair
from core.engine import decode_options
from core.schema import Verdict
from tests.builders import images
from tests.builders.profiles import with_blur_threshold

LIVE = builtin_profile("default")


def _untimed(verdict: Verdict) -> dict[str, Any]:
    """The verdict without its timings, which differ from one run to the next."""
    data = verdict.model_dump(exclude={"timings"})
    for check in data["checks"].values():
        check.pop("duration_ms")
    return data


@pytest.fixture(scope="module")
def photo() -> bytes:
    return images.encode(images.sharp_photo(1600, 1200, "coffee"))


def _candidate_just_above(photo: bytes) -> Any:
    """A candidate whose blur threshold sits just above this photo's sharpness."""
    sharpness = score(photo, LIVE).checks["blur"].values["sharpness"]
    assert isinstance(sharpness, float)
    return with_blur_threshold(LIVE, sharpness + 1.0, name="default-next", version="2026.12.1")


def test_each_verdict_is_what_its_profile_gives_alone(photo: bytes) -> None:
    candidate = _candidate_just_above(photo)

    live, shadow = score_pair(photo, LIVE, candidate, image_id="img-1")

    assert _untimed(live) == _untimed(score(photo, LIVE, image_id="img-1"))
    assert _untimed(shadow) == _untimed(score(photo, candidate, image_id="img-1"))
    assert (live.verdict, shadow.verdict) == (Outcome.ACCEPTED, Outcome.REJECTED)
    assert (shadow.profile.name, shadow.profile.version) == ("default-next", "2026.12.1")
    assert shadow.vetoed_by == ["blur"]
    assert shadow.checks["blur"].values == live.checks["blur"].values


def test_a_candidate_with_the_same_decode_options_shares_the_decode(
    photo: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    candidate = _candidate_just_above(photo)
    calls: list[int] = []
    real = core.decode.decode_image

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(core.engine, "decode_image", counted)
    score_pair(photo, LIVE, candidate)
    assert len(calls) == 1
    other_scale = candidate.model_copy(update={"analysis_long_side": 800})
    assert decode_options(other_scale) != decode_options(LIVE)
    _live, shadow = score_pair(photo, LIVE, other_scale)
    assert len(calls) == 3  # the live decode, then the candidate's own
    assert _untimed(shadow) == _untimed(score(photo, other_scale))


def test_an_undecodable_photo_is_the_same_error_under_each_profile(photo: bytes) -> None:
    candidate = _candidate_just_above(photo)

    live, shadow = score_pair(photo[:2000], LIVE, candidate)

    assert live.verdict is shadow.verdict is Outcome.ERROR
    assert live.error is not None
    assert shadow.error == live.error == score(photo[:2000], LIVE).error
    assert shadow.profile.name == "default-next"
    assert live.profile.name == "default"
