"""The perceptual fingerprint: copies of a photo land close, different photos far apart."""

from __future__ import annotations

import pytest

from core import score
from core.fingerprint import FINGERPRINT_BITS, distance, fingerprint
from core.profiles import builtin_profile
from tests.builders import images

#: The near-duplicate threshold the bench chose (bench/near_duplicates.py).
THRESHOLD = 16


def print_of(data: bytes) -> int:
    verdict = score(data, builtin_profile("default"))
    assert verdict.fingerprint is not None
    return int(verdict.fingerprint, 16)


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea"])
def test_a_resized_recompressed_copy_is_within_the_threshold(name: str) -> None:
    photo = images.real_photo(name)
    height, width = photo.shape[:2]
    original = print_of(images.encode(photo, quality=92))
    copy = print_of(images.encode(images.resized(photo, width // 2, height // 2), quality=70))
    brighter = print_of(images.encode(images.with_brightness(photo, 1.0, 30.0)))

    assert distance(original, copy) <= THRESHOLD
    assert distance(original, brighter) <= THRESHOLD


def test_different_photos_are_far_apart() -> None:
    prints = [
        print_of(images.encode(images.real_photo(n))) for n in ("astronaut", "coffee", "chelsea")
    ]
    pairs = [(a, b) for i, a in enumerate(prints) for b in prints[i + 1 :]]

    assert all(distance(a, b) > THRESHOLD for a, b in pairs)


def test_a_fingerprint_has_64_bits_and_is_deterministic() -> None:
    grey = images.real_photo("coffee").mean(axis=2).astype("uint8")

    assert fingerprint(grey) == fingerprint(grey.copy())
    assert 0 < fingerprint(grey) < 2**FINGERPRINT_BITS
    assert distance(fingerprint(grey), fingerprint(grey)) == 0


def test_errors_carry_no_fingerprint() -> None:
    assert score(b"not a photo", builtin_profile("default")).fingerprint is None
