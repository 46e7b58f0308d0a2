"""Hostile and odd input: the engine answers every byte string with a verdict, quickly.

Mutations of real JPEG, PNG, WebP and HEIC files are fuzzed with hypothesis; the
named cases cover bombs, malformed EXIF, unusual modes and extreme shapes.
"""

from __future__ import annotations

import io
import resource
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from core import Outcome, builtin_profile, score
from core.schema import ErrorCode, Verdict
from tests.builders.images import encode, exif_bytes, png_header_only, sharp_photo

DEFAULT = builtin_profile("default")
SEEDS = {
    fmt: encode(sharp_photo(320, 240), fmt, quality=80) for fmt in ("JPEG", "PNG", "WEBP", "HEIF")
}
MAX_SECONDS = 2.0


def _timed_score(data: bytes) -> Verdict:
    started = time.perf_counter()
    verdict = score(data, DEFAULT)
    assert time.perf_counter() - started < MAX_SECONDS
    return verdict


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
        position = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[position] ^= draw(st.integers(1, 255))
        elif kind == "truncate":
            del data[position:]
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete":
            del data[position : position + draw(st.integers(1, 64))]
    return bytes(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_images_always_get_a_verdict_within_two_seconds(data: bytes) -> None:
    verdict = _timed_score(data)
    if verdict.verdict is Outcome.ERROR:
        assert verdict.error is not None and verdict.error.message
    else:
        assert verdict.score is not None and 0 <= verdict.score <= 100


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_always_get_a_verdict(data: bytes) -> None:
    assert _timed_score(data).verdict in (Outcome.ACCEPTED, Outcome.REJECTED, Outcome.ERROR)


def test_memory_stays_bounded_over_many_hostile_inputs() -> None:
    bomb = png_header_only(60_000, 60_000)
    score(bomb, DEFAULT)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for i in range(200):
        seed = SEEDS["JPEG"]
        score(seed[: 200 + i * 10], DEFAULT)
        score(bomb, DEFAULT)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 50


def _saved(image: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def test_real_bomb_with_pixel_data_is_refused_cheaply() -> None:
    # 12000 x 12000 = 144 MP of one colour compresses to a few hundred KB.
    data = _saved(Image.new("L", (12_000, 12_000)), "PNG", optimize=False)
    verdict = _timed_score(data)
    assert verdict.error is not None and verdict.error.code is ErrorCode.TOO_MANY_PIXELS


def test_huge_exif_block_is_tolerated() -> None:
    exif = exif_bytes(make="X" * 60_000)
    verdict = _timed_score(encode(sharp_photo(), exif=exif))
    assert verdict.verdict is Outcome.ACCEPTED
    assert verdict.exif is not None and verdict.exif.camera_make == "X" * 128


@pytest.mark.parametrize(
    ("build", "fmt"),
    [
        (lambda: Image.fromarray(sharp_photo()).convert("CMYK"), "JPEG"),
        (
            lambda: Image.fromarray(
                np.asarray(Image.fromarray(sharp_photo()).convert("L"), dtype=np.uint16) * 257
            ),
            "PNG",
        ),
        (lambda: Image.fromarray(sharp_photo()).convert("P"), "PNG"),
        (lambda: Image.fromarray(sharp_photo()).convert("RGBA"), "PNG"),
        (lambda: Image.fromarray(sharp_photo()).convert("RGBA"), "WEBP"),
    ],
    ids=["cmyk-jpeg", "16bit-png", "palette-png", "alpha-png", "alpha-webp"],
)
def test_unusual_modes_are_scored_like_the_photo(build: object, fmt: str) -> None:
    image = build()  # type: ignore[operator]
    verdict = _timed_score(_saved(image, fmt))
    assert verdict.verdict is Outcome.ACCEPTED
    assert verdict.checks["blur"].passed


def test_animated_webp_scores_its_first_frame() -> None:
    frames = [Image.fromarray(sharp_photo()), Image.new("RGB", (1600, 1200), "white")]
    data = _saved(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100)
    verdict = _timed_score(data)
    assert verdict.checks["blur"].passed
    assert verdict.verdict is Outcome.ACCEPTED


@pytest.mark.parametrize(("size", "code"), [((1, 1), "too_small"), ((20_000, 20), "too_small")])
def test_extreme_shapes_are_rejected_for_resolution(size: tuple[int, int], code: str) -> None:
    data = _saved(Image.new("RGB", size, (120, 130, 140)), "PNG")
    verdict = _timed_score(data)
    assert verdict.verdict is Outcome.REJECTED
    assert verdict.checks["resolution"].reason_code == code
