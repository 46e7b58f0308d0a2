"""Profiles that ship with the engine, and :func:`rules_from_toml`, the one way a profile is read.

The built-ins are ``reference`` (parity with the Flask system) and ``default``.
Reading these files is reading package data, like importing a module; every other
profile reaches the engine as text, which may extend a built-in
(:mod:`core.profiles.inheritance`). Parsing lives here, not in :mod:`core.rules`,
because resolving ``extends`` needs the built-ins and the built-ins need the models.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from importlib.resources import files

from core.profiles.inheritance import ProfileError, Table, resolved_table
from core.rules import Rules

BUILTIN_PROFILES: tuple[str, ...] = ("default", "reference")

__all__ = ["BUILTIN_PROFILES", "ProfileError", "builtin_profile", "rules_from_toml"]


def rules_from_toml(text: str) -> Rules:
    """Parse one profile, resolve its ``extends`` and validate it.

    Raises ``ValueError``: :class:`ProfileError` for an unknown base, a loop or a
    child without its own name, version and description; pydantic's
    ``ValidationError`` with every problem of the merged profile listed.
    """
    return Rules.model_validate(resolved_table(tomllib.loads(text), _BuiltinTables()))


def builtin_profile(name: str) -> Rules:
    """Load a bundled profile by name; ``KeyError`` names the ones that exist."""
    if name not in BUILTIN_PROFILES:
        raise KeyError(
            f"unknown profile {name!r}; built-in profiles: {', '.join(BUILTIN_PROFILES)}"
        )
    return rules_from_toml(_builtin_text(name))


def _builtin_text(name: str) -> str:
    return files(__package__).joinpath(f"{name}.toml").read_text(encoding="utf-8")


class _BuiltinTables(Mapping[str, Table]):
    """The built-ins as raw tables, the bases a profile may extend; read only when extended."""

    def __getitem__(self, name: str) -> Table:
        if name not in BUILTIN_PROFILES:
            raise KeyError(name)
        return tomllib.loads(_builtin_text(name))

    def __contains__(self, name: object) -> bool:
        return name in BUILTIN_PROFILES

    def __iter__(self) -> Iterator[str]:
        return iter(BUILTIN_PROFILES)

    def __len__(self) -> int:
        return len(BUILTIN_PROFILES)
