"""Rule profiles are validated data; the reference system's env names override them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core import BUILTIN_PROFILES, builtin_profile, rules_from_toml, with_env_overrides

MINIMAL = """
name = "springfield"
version = "1"
[checks.blur]
weight = 30
threshold = 150
[checks.resolution]
weight = 30
min_width = 1024
min_height = 768
min_megapixels = 0.7
[checks.brightness]
weight = 20
min = 40
max = 230
[checks.exposure]
weight = 10
min_dynamic_range = 90
max_shadow_clip = 0.1
max_highlight_clip = 0.05
[checks.metadata]
weight = 10
min_completeness = 0
"""


def test_every_builtin_profile_loads_with_a_name_and_version() -> None:
    for name in BUILTIN_PROFILES:
        rules = builtin_profile(name)
        assert rules.name == name
        assert rules.version


def test_custom_profile_from_toml() -> None:
    rules = rules_from_toml(MINIMAL)
    assert (rules.name, rules.version, rules.accept_score) == ("springfield", "1", 65)
    assert rules.checks.blur.threshold == 150
    assert rules.checks.compression is None


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("min = 40", "min = 240"), "brightness.min must be below"),
        (("threshold = 150", "threshold = -1"), "greater than 0"),
        (('name = "springfield"', 'name = "has space"'), "pattern"),
        (("weight = 30\nthreshold", "weight = 30\nthreshhold = 1\nthreshold"), "Extra inputs"),
    ],
)
def test_invalid_profiles_are_refused_with_a_clear_message(
    edit: tuple[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        rules_from_toml(MINIMAL.replace(*edit, 1))


def test_unknown_builtin_profile_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="default, reference"):
        builtin_profile("nope")


def test_reference_env_variables_override_and_mark_the_version() -> None:
    env = {
        "BLUR_THRESHOLD": "120",
        "MIN_BRIGHTNESS": "45",
        "MAX_BRIGHTNESS": "210",
        "MIN_RESOLUTION_WIDTH": "1024",
        "MIN_RESOLUTION_HEIGHT": "768",
        "MIN_MEGAPIXELS": "0.7",
        "METADATA_COMPLETENESS": "30",
        "UNRELATED": "x",
    }
    rules = with_env_overrides(builtin_profile("reference"), env)
    c = rules.checks
    assert (c.blur.threshold, c.brightness.min, c.brightness.max) == (120, 45, 210)
    assert (c.resolution.min_width, c.resolution.min_height, c.resolution.min_megapixels) == (
        1024,
        768,
        0.7,
    )
    assert c.metadata.min_completeness == 30
    assert rules.version == builtin_profile("reference").version + "+env"


def test_no_override_keeps_the_profile_untouched() -> None:
    rules = builtin_profile("default")
    assert with_env_overrides(rules, {"BLUR_THRESHOLD": " "}) is rules


def test_bad_override_value_is_refused() -> None:
    with pytest.raises(ValidationError):
        with_env_overrides(builtin_profile("default"), {"BLUR_THRESHOLD": "sharp"})
