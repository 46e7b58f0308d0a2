"""Verdicts out of the containers against ``civicqc score`` of the same bytes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

#: Fields of a verdict that depend on when and where it was computed, or on EXIF_IN_VERDICTS.
CIRCUMSTANTIAL = {"image_id", "timings", "exif"}
CHECK_CIRCUMSTANTIAL = {"duration_ms"}
#: The verdict event's names for the engine's fields (``civicqc score`` prints the engine's).
ENGINE_NAMES = {"outcome": "verdict", "rules": "profile"}
#: What the event (and the API's status of an image) adds to the engine's verdict.
EVENT_ONLY = {
    "schema_version",
    "submitted_at",
    "scored_at",
    "metadata",
    "object",
    "redacted",
    "status",
    "id",
    "duplicate_of",
    "near_duplicates",
}


def civicqc_score(folder: Path, profile: str) -> dict[str, dict[str, Any]]:
    """``civicqc score --format jsonl`` of a folder: file name -> verdict."""
    out = subprocess.run(
        [
            str(Path(sys.executable).with_name("civicqc")),
            "score",
            str(folder),
            "--profile",
            profile,
            "--format",
            "jsonl",
            "--jobs",
            "1",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    for row in rows:
        del row["advice"]  # the CLI's rendering in a language, not part of the verdict
    return {Path(row.pop("path")).name: row for row in rows}


def engine_fields(event: dict[str, Any]) -> dict[str, Any]:
    """A verdict event's scoring fields under the engine's names, to compare with the CLI's."""
    return {ENGINE_NAMES.get(k, k): v for k, v in event.items() if k not in EVENT_ONLY}


def essence(verdict: dict[str, Any]) -> dict[str, Any]:
    """The verdict less what may differ between two runs on the same bytes (and its
    schema version: the CLI prints the engine's, the event has its own)."""
    skip = CIRCUMSTANTIAL | {"schema_version"}
    essence = {name: value for name, value in verdict.items() if name not in skip}
    essence["checks"] = {
        check: {k: v for k, v in result.items() if k not in CHECK_CIRCUMSTANTIAL}
        for check, result in verdict["checks"].items()
    }
    return essence
