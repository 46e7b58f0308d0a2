"""``civicqc models pull`` explains itself when the model host is unreachable."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from civicqc.cli import main


def test_offline_pull_fails_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(*_: Any, **__: Any) -> None:
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    code = main(["models", "pull", "yolov8n", "--dest", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert "cannot download yolov8n" in err and "docs/DETECTION.md" in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_an_already_pulled_model_is_not_fetched_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "yolo11n.pt").write_bytes(b"weights")
    monkeypatch.setattr(urllib.request, "urlopen", None)
    assert main(["models", "pull", "yolo11n", "--dest", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip().endswith("yolo11n.pt")
