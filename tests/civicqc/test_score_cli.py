"""``civicqc score``: outputs, exit codes, parallelism, error verdicts for bad files."""

from __future__ import annotations

import csv
import gc
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from civicqc.cli import main
from core.rules import ENV_OVERRIDES
from runtime.catalogues import DIR_VARIABLE, Catalogues
from tests.builders.catalogues import write_catalogue
from tests.builders.images import encode, gaussian_blurred, sharp_photo


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("photos")
    (root / "nested").mkdir()
    (root / "good.jpg").write_bytes(encode(sharp_photo(1200, 900)))
    (root / "nested" / "blurred.png").write_bytes(
        encode(gaussian_blurred(sharp_photo(1200, 900), 8), "PNG")
    )
    (root / "nested" / "notes.jpg").write_text("not an image")
    (root / "empty.jpg").write_bytes(b"")
    (root / "no-extension").write_bytes(encode(sharp_photo(1200, 900), "WEBP"))
    (root / ".hidden.jpg").write_bytes(b"skipped")
    return root


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["score", *args, "--no-progress"])
    return code, capsys.readouterr().out


def test_jsonl_has_one_verdict_per_file_with_path_verdict_score_and_checks(
    photo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(capsys, str(photo_dir), "--format", "jsonl", "--jobs", "1")
    assert code == 0
    rows = {Path(r["path"]).name: r for r in map(json.loads, out.splitlines())}
    assert set(rows) == {"good.jpg", "blurred.png", "notes.jpg", "empty.jpg", "no-extension"}
    assert rows["good.jpg"]["verdict"] == "accepted"
    assert rows["good.jpg"]["checks"]["blur"]["passed"] is True
    assert rows["no-extension"]["verdict"] == "accepted"  # format sniffed from bytes
    assert rows["blurred.png"]["verdict"] == "rejected"
    assert rows["blurred.png"]["checks"]["blur"]["passed"] is False
    assert isinstance(rows["blurred.png"]["score"], float)
    assert rows["notes.jpg"]["verdict"] == "error"
    assert rows["notes.jpg"]["error"]["code"] == "unsupported_format"
    assert rows["empty.jpg"]["error"]["code"] == "empty"


@pytest.mark.parametrize(("lang", "language"), [("hi-IN", "hi"), ("de", "en"), (None, "en")])
def test_lang_gives_the_reasons_and_advice_in_that_language(
    photo_dir: Path, capsys: pytest.CaptureFixture[str], lang: str | None, language: str
) -> None:
    args = ["--lang", lang] if lang else []
    _, out = _run(capsys, str(photo_dir / "nested"), "--format", "jsonl", "--jobs", "1", *args)
    rows = {Path(r["path"]).name: r for r in map(json.loads, out.splitlines())}
    catalogues = Catalogues()
    blurred = rows["blurred.png"]["advice"]
    assert blurred["language"] == language
    assert blurred["reasons"]["blur"].startswith(
        str(catalogues.text(language, "blur.too_blurry"))[:8]
    )
    assert catalogues.text(language, "blur.too_blurry.advice") in blurred["recommendations"]
    assert rows["notes.jpg"]["advice"]["recommendations"] == [
        catalogues.text(language, "error.unsupported_format")
    ]
    assert "reason" not in rows["blurred.png"]["checks"]["blur"]  # the verdict stays neutral


def test_a_city_catalogue_from_the_environment(
    photo_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_catalogue(tmp_path / "es.po", "es", {"blur.too_blurry.advice": "Vuelva con pulso firme."})
    monkeypatch.setenv("MESSAGE_CATALOGUES_DIR", str(tmp_path))
    _, table = _run(capsys, str(photo_dir / "nested" / "blurred.png"), "--lang", "es")
    assert "- Vuelva con pulso firme." in table


@pytest.mark.parametrize("variable", ["BLUR_THRESHOLD", "blur_threshold"])
def test_a_rule_override_from_the_environment_in_either_case(
    photo_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
) -> None:
    """The settings read names case-insensitively, so the check before loading them must too."""
    monkeypatch.setenv(variable, "100000")
    _, out = _run(capsys, str(photo_dir / "good.jpg"), "--format", "jsonl")
    (row,) = map(json.loads, out.splitlines())
    assert row["profile"]["version"].endswith("+env")
    assert row["checks"]["blur"]["passed"] is False


#: What the services need and one photo's score does not: Kafka, S3, HTTP, settings,
#: detectors, HEIF, progress bars, process pools (``civicqc.cli.entry`` skips the
#: interpreter's teardown only where ``multiprocessing`` was never loaded); and numpy's
#: masked arrays, which ``np.median`` imports (10-20 ms) only to ask whether its input is one.
NOT_FOR_ONE_PHOTO = (
    "pydantic_settings",
    "aiokafka",
    "minio",
    "fastapi",
    "starlette",
    "uvicorn",
    "ultralytics",
    "torch",
    "onnxruntime",
    "pillow_heif",
    "tqdm",
    "concurrent.futures.process",
    "multiprocessing",
    "core.events",
    "core.redact",
    "asyncio",
    "numpy.ma",
)


def test_scoring_one_photo_imports_only_what_it_needs(photo_dir: Path) -> None:
    """The start-up cost of ``civicqc score photo.jpg`` is mostly imports (issue #17)."""
    probe = (
        "import sys\n"
        "from civicqc.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    settings = {*ENV_OVERRIDES, DIR_VARIABLE}  # none set: no reason to read the settings
    env = {k: v for k, v in os.environ.items() if k.upper() not in settings}
    done = subprocess.run(
        [sys.executable, "-c", probe, "score", str(photo_dir / "good.jpg")],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert "accepted" in done.stdout
    loaded = set(done.stderr.split())
    assert "core.engine" in loaded  # the probe saw the command's imports
    assert sorted(loaded.intersection(NOT_FOR_ONE_PHOTO)) == []


def test_a_run_that_skips_the_teardown_still_writes_its_whole_answer(
    photo_dir: Path, tmp_path: Path
) -> None:
    """``civicqc score`` on one process leaves with ``os._exit`` (``civicqc.cli.entry``).

    Buffered output (the CSV is written in one go at the end) must be flushed first; the
    exit status must survive the shortcut.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    cli = [sys.executable, "-m", "civicqc.cli", "score", "--format", "csv", "--jobs", "1"]
    out = tmp_path / "out.csv"
    with out.open("w") as handle:
        done = subprocess.run(
            [*cli, str(photo_dir / "good.jpg"), str(photo_dir / "nested")],
            stdout=handle,
            env=env,
            check=False,
        )
    assert done.returncode == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(Path(r["path"]).name, r["verdict"]) for r in rows] == [
        ("good.jpg", "accepted"),
        ("blurred.png", "rejected"),
        ("notes.jpg", "error"),
    ]
    usage = subprocess.run([*cli, "--profile", "nope", str(photo_dir)], env=env, check=False)
    assert usage.returncode == 2


def test_main_called_in_process_leaves_the_garbage_collector_as_it_found_it(
    photo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The program pauses and freezes collection (``civicqc.cli.entry``); ``main`` must not.

    Frozen objects are never collected, so freezing a caller's garbage would leak it.
    """
    frozen = gc.get_freeze_count()
    assert gc.isenabled()
    _run(capsys, str(photo_dir / "good.jpg"))
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_parallel_and_serial_runs_agree(
    photo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def essentials(out: str) -> list[tuple[str, str, float | None]]:
        return [(r["path"], r["verdict"], r["score"]) for r in map(json.loads, out.splitlines())]

    _, serial = _run(capsys, str(photo_dir), "--format", "jsonl", "--jobs", "1")
    _, parallel = _run(capsys, str(photo_dir), "--format", "jsonl", "--jobs", "2")
    assert essentials(serial) == essentials(parallel)


def test_csv_and_table_formats(photo_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = _run(capsys, str(photo_dir / "good.jpg"), "--format", "csv")
    (row,) = list(csv.DictReader(io.StringIO(out)))
    assert (row["verdict"], row["blur_passed"], row["resolution_passed"]) == (
        "accepted",
        "true",
        "true",
    )
    _, table = _run(capsys, str(photo_dir), "--jobs", "1")
    assert "2 accepted, 1 rejected, 2 error" in table


def test_usage_errors_exit_2_and_rejections_exit_0(photo_dir: Path, tmp_path: Path) -> None:
    cli = [sys.executable, "-m", "civicqc.cli", "score", "--no-progress"]
    missing = subprocess.run([*cli, str(tmp_path / "missing")], capture_output=True, text=True)
    assert missing.returncode == 2
    assert "no such file or folder" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad_profile = subprocess.run(
        [*cli, "--profile", "nope", str(photo_dir)], capture_output=True, text=True
    )
    assert bad_profile.returncode == 2
    rejected = subprocess.run([*cli, str(photo_dir / "nested")], capture_output=True, text=True)
    assert rejected.returncode == 0
    assert "Traceback" not in rejected.stderr


def test_unreadable_input_gets_an_error_verdict(tmp_path: Path) -> None:
    """A path that can't be read (here a folder where a file was expected) is a verdict, not a crash."""
    from civicqc.commands.score import score_files
    from core import builtin_profile

    (result,) = score_files([tmp_path], builtin_profile("default"), jobs=1)
    assert result["verdict"] == "error"
    assert result["error"]["code"] == "unreadable"
    assert str(tmp_path) in result["error"]["message"]
