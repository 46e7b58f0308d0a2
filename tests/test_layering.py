"""The import rules that keep the layout honest, checked on the source (AST), not at run time.

core/ is the pure engine; runtime/ is what the services share; producer_api/ and
consumer/ are the services; civicqc/ is the operator's CLI and local stack. A
package may import only the packages listed for it, so the service image can
ship without civicqc/ and the engine without any shell.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: First-party packages each package may import (itself included).
ALLOWED: dict[str, frozenset[str]] = {
    "core": frozenset({"core"}),
    "runtime": frozenset({"core", "runtime"}),
    "producer_api": frozenset({"core", "runtime", "producer_api"}),
    "consumer": frozenset({"core", "runtime", "consumer"}),
}
FIRST_PARTY = frozenset({*ALLOWED, "civicqc", "bench", "tests"})


def imported_packages(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, top-level package)`` of every absolute import in ``path``, nested ones too."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]


def violations(package: str) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, name in imported_packages(path):
            if name in FIRST_PARTY and name not in ALLOWED[package]:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_what_its_layer_may(package: str) -> None:
    assert violations(package) == []


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f() -> None:\n    from civicqc.cli import main\n", encoding="utf-8")
    assert list(imported_packages(module)) == [(2, "civicqc")]
