"""docs/SECURITY.md stays true: the tests it names exist, the settings it names are read.

A claim whose test is renamed or deleted, or a setting that is removed (as
``METRICS_ALLOW_NETWORKS`` was), fails here instead of leaving the page stale.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from consumer.settings import ConsumerSettings
from producer_api.settings import Settings

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "SECURITY.md"
#: Environment names on the page that are not settings: the stack's published key,
#: and the engine version the API reports.
NOT_SETTINGS = {"CIVICQC_API_KEY", "ENGINE_VERSION"}


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def test_every_test_the_page_names_exists() -> None:
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", DOC.read_text(encoding="utf-8"))
    assert len(named) >= 40
    missing = [
        f"{file}::{name}"
        for file, name in named
        if not (REPO / file).is_file() or name not in _test_names(REPO / file)
    ]
    assert missing == []


def test_every_setting_the_page_names_is_read_by_a_service() -> None:
    named = set(re.findall(r"`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`", DOC.read_text(encoding="utf-8")))
    declared = {name.upper() for name in Settings.model_fields} | {
        name.upper() for name in ConsumerSettings.model_fields
    }
    assert named - declared - NOT_SETTINGS == set()
