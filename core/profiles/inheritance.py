"""Profile inheritance: ``extends = "default"`` is the base with the child's tables laid over it.

A city's profile "like default but stricter on blur" used to be a copy of default,
and copies drift: they keep thresholds the base has since moved. A child names its
base and gives only what differs, so it follows the base's recalibrations.

The merge works on the TOML tables before validation, because a child's
``[checks.blur]`` with a ``threshold`` alone is no valid check by itself; the
merged table is validated once, as a whole, so its errors name fields as the
operator writes them. Rules of the merge:

* a top-level key given replaces the base's, ``[detector]`` included, as a whole
  (a class map belongs to its model);
* a check table given merges key by key into the base's check; a check the child
  does not name is inherited; ``compression = false`` under ``[checks]`` switches an
  optional check off (only the checks :class:`core.rules.Checks` lets be absent);
* ``name``, ``version`` and ``description`` are never inherited: the child must give
  them. The resolved version is ``{child}+{base}.{base version}``, so a verdict still
  names the exact thresholds that scored it after the base moves on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.rules import Checks

Table = dict[str, Any]

#: Keys a child gives itself: a verdict names the profile that scored it, not its base.
OWN_KEYS: tuple[str, ...] = ("name", "version", "description")


class ProfileError(ValueError):
    """A profile that can't be resolved: unknown base, a loop, own keys missing, a check off."""


def resolved_table(data: Table, bases: Mapping[str, Table]) -> Table:
    """``data`` with its ``extends`` chain merged in, ready for :class:`core.rules.Rules`.

    ``bases`` maps the profiles that may be extended to their raw tables (the
    built-ins); a base may itself extend another.
    """
    return _resolved(data, bases, chain=(str(data.get("name", "<unnamed>")),))


def _resolved(data: Table, bases: Mapping[str, Table], chain: tuple[str, ...]) -> Table:
    """``chain``: the profile being read, then each base so far (a base seen twice loops)."""
    child = dict(data)
    base_name = child.pop("extends", None)
    if base_name is None:
        return _merged({}, child)
    label = child.get("name", "<unnamed>")
    if not isinstance(base_name, str):
        raise ProfileError(f"profile {label!r}: extends must be a profile name, not {base_name!r}")
    if base_name in chain[1:]:
        loop = " -> ".join((*chain, base_name))
        raise ProfileError(f"profile {chain[0]!r}: extends loops: {loop}")
    missing = [key for key in OWN_KEYS if key not in child]
    if missing:
        raise ProfileError(
            f"profile {label!r} extends {base_name!r} and must give its own "
            f"{', '.join(missing)} (never inherited)"
        )
    if base_name not in bases:
        raise ProfileError(
            f"profile {label!r} extends unknown profile {base_name!r}; "
            f"profiles that can be extended: {', '.join(bases)}"
        )
    base = _resolved(bases[base_name], bases, (*chain, base_name))
    merged = _merged(base, child)
    merged["version"] = f"{child['version']}+{base_name}.{base['version']}"
    return merged


def _merged(base: Table, child: Table) -> Table:
    merged = {**base, **child}
    if isinstance(child.get("checks"), dict):
        merged["checks"] = _merged_checks(base.get("checks", {}), child["checks"], child)
    return merged


def _merged_checks(base: Table, child: Table, profile: Table) -> Table:
    checks = dict(base)
    for name, table in child.items():
        if table is False:
            if name in Checks.model_fields and Checks.model_fields[name].is_required():
                optional = (n for n, f in Checks.model_fields.items() if not f.is_required())
                raise ProfileError(
                    f"profile {profile.get('name', '<unnamed>')!r}: checks.{name} can't be "
                    f"switched off (only {', '.join(optional)} can); weight = 0 keeps it "
                    "out of the score and veto_below = 0 stops its veto"
                )
            checks.pop(name, None)
        elif isinstance(table, dict) and isinstance(checks.get(name), dict):
            checks[name] = {**checks[name], **table}
        else:
            checks[name] = table
    return checks
