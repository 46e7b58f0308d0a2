"""The committed JSON Schemas match the models; regenerate with ``civicqc schemas``."""

from __future__ import annotations

import json

import jsonschema
import pytest

from civicqc.schemas import PUBLISHED, SCHEMA_DIR, schema_text
from core import builtin_profile, score
from tests.builders.images import encode, sharp_photo


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_committed_schema_is_current(name: str) -> None:
    path = SCHEMA_DIR / name
    assert path.is_file(), f"{path} missing: run `civicqc schemas`"
    assert path.read_text(encoding="utf-8") == schema_text(PUBLISHED[name]), (
        f"{name} is stale: run `civicqc schemas` and commit the result"
    )


def test_a_real_verdict_validates_against_the_published_schema() -> None:
    schema = json.loads((SCHEMA_DIR / "verdict.schema.json").read_text(encoding="utf-8"))
    for data in (encode(sharp_photo()), b"not an image"):
        verdict = score(data, builtin_profile("default"), image_id="id-1")
        jsonschema.validate(json.loads(verdict.model_dump_json()), schema)
