"""Rule profiles as the services and the CLI load them: the one place profiles are read.

A profile is a built-in name (``core/profiles/*.toml``) or a TOML file, which may
extend a built-in (``extends = "default"``); every one is read by
:func:`core.profiles.rules_from_toml`, so all of them resolve ``extends`` alike. The
reference system's threshold variables (:class:`runtime.settings.RuleOverrides`)
apply to every profile, and the profile version then gains ``+env`` so verdicts
say so.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from core.profiles import BUILTIN_PROFILES, builtin_profile, rules_from_toml
from core.rules import Rules, with_env_overrides
from core.version import ENGINE_VERSION

if TYPE_CHECKING:  # pydantic-settings costs ``civicqc score`` ~45 ms to import: see load_profile
    from runtime.settings import CommonSettings, RuleOverrides


class UnknownProfileError(ValueError):
    """A profile name that is neither built-in, nor loaded from a folder, nor a file."""


def load_profile(profile: str, overrides: RuleOverrides | None) -> Rules:
    """A built-in profile name or a path to a TOML profile, with the overrides applied.

    ``None`` is "no override variable set", for a caller that checked the environment
    without building the settings.
    """
    if profile in BUILTIN_PROFILES:
        rules = builtin_profile(profile)
    else:
        path = Path(profile)
        if not path.is_file():
            raise UnknownProfileError(
                f"profile {profile!r} is neither built-in ({', '.join(BUILTIN_PROFILES)}) nor a file"
            )
        rules = _from_file(path)
    return rules if overrides is None else with_env_overrides(rules, overrides.rule_overrides())


def load_rulebook(settings: CommonSettings) -> dict[str, Rules]:
    """All profiles by name: built-ins plus ``RULE_PROFILES_DIR``, with the overrides applied.

    Raises :class:`UnknownProfileError` when ``RULE_PROFILE``, ``TENANT_PROFILES`` or
    ``SHADOW_PROFILES`` names a profile that is not there, so a replica fails at startup,
    not per event.
    """
    profiles = {name: builtin_profile(name) for name in BUILTIN_PROFILES}
    if settings.rule_profiles_dir is not None:
        for path in sorted(settings.rule_profiles_dir.glob("*.toml")):
            rules = _from_file(path)
            profiles[rules.name] = rules
    named = {
        settings.rule_profile,
        *settings.tenant_profiles.values(),
        *settings.shadow_profiles.values(),
    }
    missing = named - profiles.keys()
    if missing:
        raise UnknownProfileError(
            f"unknown rule profile(s) {sorted(missing)}; known: {sorted(profiles)}"
        )
    overrides = settings.rule_overrides()
    return {name: with_env_overrides(rules, overrides) for name, rules in profiles.items()}


def profile_for_tenant(settings: CommonSettings, tenant: str) -> str:
    """The profile a tenant's photos are scored with: its own, else ``RULE_PROFILE``."""
    return settings.tenant_profiles.get(tenant, settings.rule_profile)


def rules_tag(rules: Rules) -> str:
    """``{name}.{hash}``: names exactly what scored a photo, for keys that reuse a verdict.

    The hash covers every threshold and weight of the resolved profile (so the version,
    any environment override and what a profile inherits from the one it extends) and
    the engine version: a change to either scores identical bytes again.
    """
    content = f"{ENGINE_VERSION}\n{rules.model_dump_json()}".encode()
    return f"{rules.name}.{hashlib.sha256(content).hexdigest()[:16]}"


def _from_file(path: Path) -> Rules:
    return rules_from_toml(path.read_text(encoding="utf-8"))
