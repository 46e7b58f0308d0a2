"""Every reason code a check can give is declared in ``core.checks.REASON_CODES``.

Renderers key their texts by these codes, so an undeclared one would reach a citizen
as a bare key. Read from the source: the code is a literal (or a name bound to
literals) in each ``Finding(...)`` of the check's module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import core.checks
from core.checks import REASON_CODES

CHECKS_DIR = Path(core.checks.__file__).parent


def _literals(node: ast.expr, bound: dict[str, set[str]]) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _literals(node.body, bound) | _literals(node.orelse, bound)
    if isinstance(node, ast.Name):
        return bound.get(node.id, set())
    raise AssertionError(f"reason code is not a literal: {ast.dump(node)}")


def codes_in(source: str) -> set[str]:
    tree = ast.parse(source)
    returned: dict[str, set[str]] = {}  # local functions that return codes
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef):
            for node in ast.walk(function):
                if isinstance(node, ast.Return) and node.value is not None:
                    try:
                        returned.setdefault(function.name, set()).update(_literals(node.value, {}))
                    except AssertionError:
                        continue
    bound: dict[str, set[str]] = {}
    for node in ast.walk(tree):  # names bound to string literals, e.g. ``code = "a" if x else "b"``
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
                values = returned.get(value.func.id, set())
            else:
                try:
                    values = _literals(value, {})
                except AssertionError:
                    continue  # not a string: not a reason code
            if isinstance(target, ast.Name):
                bound.setdefault(target.id, set()).update(values)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Finding":
            keyword = [k.value for k in node.keywords if k.arg == "reason_code"]
            argument = keyword[0] if keyword else node.args[4]
            found |= _literals(argument, bound)
    return found


@pytest.mark.parametrize("check", sorted(REASON_CODES))
def test_the_codes_a_check_gives_are_declared(check: str) -> None:
    given = codes_in((CHECKS_DIR / f"{check}.py").read_text(encoding="utf-8"))
    assert given == set(REASON_CODES[check])


def test_undeclared_codes_are_found() -> None:
    source = (
        'code = "a" if x else "b"\nFinding(False, 0, {}, {}, code)\nFinding(True, 1, {}, {}, "c")\n'
        'def pick():\n    return "d"\nwhy = pick()\nFinding(False, 0, {}, {}, why)'
    )
    assert codes_in(source) == {"a", "b", "c", "d"}
