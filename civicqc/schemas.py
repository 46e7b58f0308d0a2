"""The published JSON Schemas: one file per model under ``docs/schemas/``.

The files are generated from the pydantic models, committed, and compared by a
test, so the contract that subscribers code against can't drift silently.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from core.events import DeadLetter, ImageSubmitted, VerdictEvent
from core.schema import Verdict

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "docs" / "schemas"

#: File name -> model. Add every event and API body that crosses a process boundary.
PUBLISHED: dict[str, type[BaseModel]] = {
    "verdict.schema.json": Verdict,
    "image-submitted.schema.json": ImageSubmitted,
    "verdict-event.schema.json": VerdictEvent,
    "dead-letter.schema.json": DeadLetter,
}


def schema_text(model: type[BaseModel]) -> str:
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
