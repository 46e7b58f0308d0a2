"""A profile that extends a built-in is the built-in with the child's keys laid over it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core import builtin_profile, rules_from_toml
from core.profiles import ProfileError
from core.profiles.inheritance import Table, resolved_table
from core.rules import Rules

DEFAULT = builtin_profile("default")

STRICTER_BLUR = """
extends = "default"
name = "springfield"
version = "3"
description = "default, stricter on blur"
accept_score = 70
[checks.blur]
threshold = 40.0
"""


def test_a_child_overriding_one_key_inherits_the_rest() -> None:
    rules = rules_from_toml(STRICTER_BLUR)

    assert (rules.name, rules.description) == ("springfield", "default, stricter on blur")
    assert rules.version == f"3+default.{DEFAULT.version}", "a verdict names both versions"
    assert rules.accept_score == 70
    assert rules.analysis_long_side == DEFAULT.analysis_long_side
    assert rules.checks.blur.threshold == 40.0
    assert rules.checks.blur == DEFAULT.checks.blur.model_copy(update={"threshold": 40.0})
    for check in ("resolution", "brightness", "exposure", "metadata", "compression"):
        assert getattr(rules.checks, check) == getattr(DEFAULT.checks, check), check
    assert DEFAULT.checks.blur.threshold != 40.0, "the override must change something"


def test_a_check_table_the_base_lacks_is_added() -> None:
    rules = rules_from_toml(
        STRICTER_BLUR
        + """
[detector]
model = "models/potholes.onnx"
[checks.subject]
weight = 5
required = ["pothole"]
on_missing = "penalise"
"""
    )
    assert DEFAULT.checks.subject is None and DEFAULT.detector is None
    subject = rules.checks.subject
    assert subject is not None
    assert (subject.weight, subject.required, subject.on_missing) == (5, ["pothole"], "penalise")
    assert rules.detector is not None and rules.detector.model == "models/potholes.onnx"
    assert rules.detection_enabled
    assert rules.checks.exposure == DEFAULT.checks.exposure


def test_an_optional_check_is_switched_off_and_a_core_one_is_refused() -> None:
    off = rules_from_toml(STRICTER_BLUR + "[checks]\ncompression = false\n")
    assert DEFAULT.checks.compression is not None
    assert off.checks.compression is None
    assert off.checks.metadata == DEFAULT.checks.metadata

    with pytest.raises(ProfileError, match=r"checks\.blur can't be switched off.*compression"):
        rules_from_toml(
            STRICTER_BLUR.replace("[checks.blur]\nthreshold = 40.0", "[checks]\nblur = false")
        )


def test_an_unknown_base_is_refused_naming_the_ones_that_exist() -> None:
    with pytest.raises(ProfileError, match=r"unknown profile 'defualt'.*: default, reference"):
        rules_from_toml(STRICTER_BLUR.replace('"default"', '"defualt"'))


@pytest.mark.parametrize("key", ["name", "version", "description"])
def test_a_child_must_give_its_own_name_version_and_description(key: str) -> None:
    text = "\n".join(line for line in STRICTER_BLUR.splitlines() if not line.startswith(key))
    with pytest.raises(ProfileError, match=f"must give its own {key} "):
        rules_from_toml(text)


def _profile(name: str, extends: str | None = None, **keys: object) -> Table:
    table: Table = {"name": name, "version": "1", "description": name, **keys}
    return table if extends is None else {"extends": extends, **table}


def test_an_extends_loop_is_refused_with_its_path() -> None:
    bases = {"a": _profile("a", "b"), "b": _profile("b", "a")}
    with pytest.raises(ProfileError, match=r"extends loops: city -> a -> b -> a"):
        resolved_table(_profile("city", "a"), bases)
    with pytest.raises(ProfileError, match=r"extends loops: self -> self -> self"):
        resolved_table(_profile("self", "self"), {"self": _profile("self", "self")})


def test_a_chain_merges_every_level_and_names_every_version() -> None:
    root = DEFAULT.model_dump(mode="json", exclude_none=True)
    bases = {
        "root": root,
        "mid": _profile("mid", "root", checks={"blur": {"threshold": 50.0}}, accept_score=80),
    }
    city = _profile("city", "mid", checks={"blur": {"weight": 40}})

    rules = Rules.model_validate(resolved_table(city, bases))

    assert rules.version == f"1+mid.1+root.{DEFAULT.version}"
    assert (rules.checks.blur.threshold, rules.checks.blur.weight) == (50.0, 40)
    assert rules.checks.blur.measure == DEFAULT.checks.blur.measure
    assert rules.accept_score == 80
    assert rules.checks.exposure == DEFAULT.checks.exposure


def test_the_operators_example_resolves_as_documented() -> None:
    """docs/OPERATIONS.md's ``extends`` example is a working profile."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "OPERATIONS.md").read_text("utf-8")
    (example,) = re.findall(r'```toml\n(extends = "default".*?)```', doc, re.DOTALL)

    rules = rules_from_toml(example)

    assert (rules.name, rules.version) == ("springfield", f"2026.12.1+default.{DEFAULT.version}")
    assert (rules.accept_score, rules.checks.blur.threshold, rules.checks.compression) == (
        70,
        36.0,
        None,
    )
    assert rules.checks.blur.measure == DEFAULT.checks.blur.measure
    assert rules.checks.exposure == DEFAULT.checks.exposure
