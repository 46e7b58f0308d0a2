"""Detection settings in a rule profile: validation and defaults."""

from __future__ import annotations

import tomllib

import pytest
from pydantic import ValidationError

from core import builtin_profile, rules_from_toml
from core.profiles import BUILTIN_PROFILES
from core.rules import Rules
from tests.core.detect.conftest import detect_rules

PROFILE = """
name = "city-with-detection"
version = "1"
[detector]
backend = "onnx"
model = "models/yolov8n.onnx"
classes = { 0 = "person", 2 = "car" }
confidence = 0.3
[checks.blur]
weight = 1
threshold = 100
[checks.resolution]
weight = 1
min_width = 1
min_height = 1
min_megapixels = 0
[checks.brightness]
weight = 1
min = 0
max = 255
[checks.exposure]
weight = 1
min_dynamic_range = 0
max_shadow_clip = 1
max_highlight_clip = 1
[checks.metadata]
weight = 1
min_completeness = 0
[checks.privacy]
weight = 0
[checks.subject]
weight = 10
required = ["pothole"]
on_missing = "penalise"
missing_score = 40
"""


@pytest.mark.parametrize("name", BUILTIN_PROFILES)
def test_builtin_profiles_configure_no_model(name: str) -> None:
    rules = builtin_profile(name)
    assert rules.detector is None and not rules.detection_enabled


def test_a_toml_profile_configures_the_detector_and_both_checks() -> None:
    rules = rules_from_toml(PROFILE)
    assert rules.detection_enabled
    assert rules.detector is not None
    assert rules.detector.classes == {0: "person", 2: "car"}
    assert (rules.detector.iou, rules.detector.input_size) == (0.45, 640)
    assert rules.checks.subject is not None and rules.checks.subject.missing_score == 40
    assert rules.checks.privacy is not None and "person" in rules.checks.privacy.classes


def test_detection_checks_need_a_detector() -> None:
    data = tomllib.loads(PROFILE)
    del data["detector"]
    with pytest.raises(ValidationError, match=r"\[detector\]"):
        Rules.model_validate(data)


def test_input_size_must_suit_the_stride() -> None:
    with pytest.raises(ValidationError, match="multiple of 32"):
        detect_rules(detector={"input_size": 500})
