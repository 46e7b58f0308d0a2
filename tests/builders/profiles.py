"""Candidate rule profiles for shadow-scoring tests: a built-in with one threshold moved."""

from __future__ import annotations

import json
from typing import Any

from core.rules import Rules


def with_blur_threshold(base: Rules, threshold: float, *, name: str, version: str) -> Rules:
    """``base`` renamed, with the blur check's threshold at ``threshold`` (a veto either way)."""
    blur = base.checks.blur
    assert blur is not None
    checks = base.checks.model_copy(
        update={"blur": blur.model_copy(update={"threshold": threshold})}
    )
    return base.model_copy(update={"name": name, "version": version, "checks": checks})


def profile_toml(rules: Rules) -> str:
    """``rules`` as a profile file that :func:`core.profiles.rules_from_toml` reads back equal."""
    data = rules.model_dump(mode="json", exclude_none=True)
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    lines = [f"{k} = {_value(v)}" for k, v in data.items() if k not in tables]
    for key, table in tables.items():
        lines += _table(key, table)
    return "\n".join(lines) + "\n"


def _table(path: str, table: dict[str, Any]) -> list[str]:
    lines = ["", f"[{path}]"]
    lines += [f"{k} = {_value(v)}" for k, v in table.items() if not isinstance(v, dict)]
    for key, sub in table.items():
        if isinstance(sub, dict):
            lines += _table(f"{path}.{key}", sub)
    return lines


def _value(value: object) -> str:
    """A TOML literal: JSON's strings, numbers, booleans and arrays are TOML's too."""
    return json.dumps(value)
