"""One profile loader for the services and the CLI, with the reference overrides from settings."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import core.profiles
from core import BUILTIN_PROFILES, builtin_profile
from core.profiles.inheritance import resolved_table
from core.rules import ENV_OVERRIDES, Rules
from runtime.catalogues import DIR_VARIABLE
from runtime.rulebook import (
    UnknownProfileError,
    load_profile,
    load_rulebook,
    profile_for_tenant,
    rules_tag,
)
from runtime.settings import CatalogueSettings, CommonSettings, RuleOverrides

PROFILES_DIR = Path(core.profiles.__file__).parent


def test_every_reference_variable_is_a_setting() -> None:
    assert {name.upper() for name in RuleOverrides.model_fields} == set(ENV_OVERRIDES)


def test_the_catalogue_folder_variable_is_the_setting() -> None:
    """``civicqc score`` checks for this name before it loads pydantic-settings."""
    assert {name.upper() for name in CatalogueSettings.model_fields} == {DIR_VARIABLE}


def test_overrides_come_from_the_environment_and_mark_the_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BLUR_THRESHOLD", "250")
    monkeypatch.setenv("MIN_RESOLUTION_WIDTH", " ")  # set but blank: the profile's value
    rules = load_profile("default", RuleOverrides())
    pristine = builtin_profile("default")
    assert rules.checks.blur.threshold == 250
    assert rules.checks.resolution.min_width == pristine.checks.resolution.min_width
    assert rules.version == f"{pristine.version}+env"


def test_no_override_keeps_the_profile_as_it_is() -> None:
    assert load_profile("reference", RuleOverrides()) == builtin_profile("reference")


def test_a_profile_file_loads_and_an_unknown_name_is_refused(tmp_path: Path) -> None:
    source = (PROFILES_DIR / "reference.toml").read_text(encoding="utf-8")
    custom = tmp_path / "springfield.toml"
    custom.write_text(
        source.replace('name = "reference"', 'name = "springfield"'), encoding="utf-8"
    )
    assert load_profile(str(custom), RuleOverrides()).name == "springfield"
    with pytest.raises(UnknownProfileError, match="neither built-in"):
        load_profile("nope", RuleOverrides())


def test_the_rulebook_adds_a_folder_and_checks_every_named_profile(tmp_path: Path) -> None:
    source = (PROFILES_DIR / "reference.toml").read_text(encoding="utf-8")
    (tmp_path / "x.toml").write_text(
        source.replace('name = "reference"', 'name = "springfield"'), encoding="utf-8"
    )
    settings = CommonSettings(
        rule_profiles_dir=tmp_path, tenant_profiles={"springfield": "springfield"}
    )
    rulebook = load_rulebook(settings)
    assert set(rulebook) == {*BUILTIN_PROFILES, "springfield"}
    assert profile_for_tenant(settings, "springfield") == "springfield"
    assert profile_for_tenant(settings, "shelbyville") == "default"
    with pytest.raises(UnknownProfileError, match="nope"):
        load_rulebook(CommonSettings(tenant_profiles={"a": "nope"}))


def test_a_shadow_profile_is_loaded_by_name_from_the_env_and_checked_at_startup(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = (PROFILES_DIR / "default.toml").read_text(encoding="utf-8")
    (tmp_path / "next.toml").write_text(
        source.replace('name = "default"', 'name = "default-next"'), encoding="utf-8"
    )
    monkeypatch.setenv("RULE_PROFILES_DIR", str(tmp_path))
    monkeypatch.setenv("SHADOW_PROFILES", '{"springfield": "default-next"}')
    monkeypatch.setenv("SHADOW_SAMPLE_RATE", "0.25")
    settings = CommonSettings()

    assert settings.shadow_profiles == {"springfield": "default-next"}
    assert settings.shadow_sample_rate == 0.25
    assert settings.topic_verdicts_shadow == "images.verdicts.shadow"
    assert load_rulebook(settings)["default-next"].name == "default-next"
    assert profile_for_tenant(settings, "springfield") == "default", "the live one is unchanged"
    monkeypatch.setenv("SHADOW_PROFILES", '{"springfield": "nope"}')
    with pytest.raises(UnknownProfileError, match="nope"):
        load_rulebook(CommonSettings())


DEPLOY_PROFILES = Path(__file__).resolve().parents[2] / "deploy" / "profiles"


def test_the_privacy_demo_profile_is_default_plus_its_own_privacy_check() -> None:
    rulebook = load_rulebook(CommonSettings(rule_profiles_dir=DEPLOY_PROFILES))
    privacy, default = rulebook["default-privacy"], builtin_profile("default")

    assert privacy.version.endswith(f"+default.{default.version}")
    assert privacy.checks.blur == default.checks.blur
    assert privacy.checks.exposure == default.checks.exposure
    assert privacy.checks.model_copy(update={"privacy": None}) == default.checks
    assert (privacy.accept_score, privacy.analysis_long_side) == (
        default.accept_score,
        default.analysis_long_side,
    )
    assert privacy.checks.privacy is not None
    assert (privacy.checks.privacy.weight, privacy.checks.privacy.classes) == (0, ["person"])
    assert privacy.detector is not None
    assert privacy.detector.classes == {0: "person", 1: "person"}
    assert privacy.detection_enabled and not default.detection_enabled
    assert load_profile(str(DEPLOY_PROFILES / "default-privacy.toml"), None) == privacy


def test_the_rules_tag_of_a_child_moves_with_its_base() -> None:
    """Verdict reuse keys hash the resolved rules: an inherited threshold that moves counts."""
    base = tomllib.loads((PROFILES_DIR / "default.toml").read_text(encoding="utf-8"))
    moved = {**base, "checks": {**base["checks"], "blur": {**base["checks"]["blur"]}}}
    moved["checks"]["blur"]["threshold"] += 1
    child = tomllib.loads((DEPLOY_PROFILES / "default-privacy.toml").read_text(encoding="utf-8"))

    before = Rules.model_validate(resolved_table(child, {"default": base}))
    after = Rules.model_validate(resolved_table(child, {"default": moved}))

    assert (before.name, before.version) == (after.name, after.version)
    assert before.checks.blur.threshold + 1 == after.checks.blur.threshold
    assert rules_tag(before) != rules_tag(after)
    assert rules_tag(before) == rules_tag(
        load_profile(str(DEPLOY_PROFILES / "default-privacy.toml"), None)
    )
