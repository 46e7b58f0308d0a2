"""Profiles that ship with the engine: ``reference`` (parity with the Flask system) and ``default``.

Reading these files is reading package data, like importing a module; every
other profile reaches the engine as text parsed by :func:`core.rules.rules_from_toml`.
"""

from __future__ import annotations

from importlib.resources import files

from core.rules import Rules, rules_from_toml

BUILTIN_PROFILES: tuple[str, ...] = ("default", "reference")


def builtin_profile(name: str) -> Rules:
    """Load a bundled profile by name; ``KeyError`` names the ones that exist."""
    if name not in BUILTIN_PROFILES:
        raise KeyError(
            f"unknown profile {name!r}; built-in profiles: {', '.join(BUILTIN_PROFILES)}"
        )
    text = files(__package__).joinpath(f"{name}.toml").read_text(encoding="utf-8")
    return rules_from_toml(text)
