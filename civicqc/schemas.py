"""The published JSON Schemas: one file per model under ``docs/schemas/``.

The files are generated from the pydantic models, committed, and compared by a
test, so the contract that subscribers code against can't drift silently.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel, TypeAdapter

from core.events import (
    DeadLetter,
    FingerprintRecord,
    ImageSubmitted,
    ShadowVerdict,
    VerdictEvent,
)
from core.schema import Verdict
from producer_api.schemas import ImagePending, ImageScored, ImageStatus
from producer_api.schemas_v1 import ImageStatusV1

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "docs" / "schemas"

#: File name -> model. Add every event and API body that crosses a process boundary.
PUBLISHED: dict[str, type[BaseModel] | TypeAdapter[Any]] = {
    "verdict.schema.json": Verdict,
    "image-submitted.schema.json": ImageSubmitted,
    "verdict-event.schema.json": VerdictEvent,
    "dead-letter.schema.json": DeadLetter,
    "fingerprint-record.schema.json": FingerprintRecord,
    "shadow-verdict.schema.json": ShadowVerdict,
    # GET /v1/images/{id}: 0.1.0's shape, the version 1 verdict event nested with its texts.
    "image-status-v1.schema.json": ImageStatusV1,
    # GET /v2/images/{id}: pending, or the flat verdict event plus its status.
    "image-status-v2.schema.json": TypeAdapter[ImagePending | ImageScored](
        cast(Any, ImageStatus)  # an Annotated union: a type form, not a class, for mypy
    ),
}


def schema_text(model: type[BaseModel] | TypeAdapter[Any]) -> str:
    if isinstance(model, TypeAdapter):
        schema = model.json_schema(mode="serialization")
    else:
        schema = model.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in PUBLISHED.items():
        path = directory / name
        path.write_text(schema_text(model), encoding="utf-8")
        written.append(path)
    return written
