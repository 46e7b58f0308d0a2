"""bench.pipeline's distinct uploads: new bytes every time, the same photo to the engine."""

from __future__ import annotations

import hashlib
from typing import Any

from bench.pipeline import distinct_copy
from core import Rules, builtin_profile, score
from tests.builders import images


def _judged(data: bytes, rules: Rules) -> dict[str, Any]:
    """What the engine concluded, less what depends on the byte count or the clock."""
    verdict = score(data, rules).model_dump(mode="json")
    checks = {
        name: {k: check[k] for k in ("passed", "score", "values", "reason_code")}
        for name, check in verdict["checks"].items()
    }
    kept = ("verdict", "score", "quality", "vetoed_by", "fingerprint")
    return {**{k: verdict.get(k) for k in kept}, "checks": checks}


def test_each_copy_is_new_bytes_that_score_as_the_photo_they_copy() -> None:
    photo = images.encode(images.sharp_photo(640, 480))
    copies = [distinct_copy(photo, serial) for serial in range(3)]
    digests = {hashlib.sha256(data).hexdigest() for data in [photo, *copies]}
    assert len(digests) == 4  # the exact-duplicate check sees four different photos
    rules = builtin_profile("default")
    original = _judged(photo, rules)
    assert original["checks"]  # the photo was decoded and measured, not refused
    for data in copies:
        assert _judged(data, rules) == original
