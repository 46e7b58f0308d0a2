"""Verdicts of the real engine rendered in several languages, with the language's numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import builtin_profile, score
from core.checks.privacy import privacy_finding
from core.checks.subject import subject_finding
from core.rules import PrivacyRule, SubjectRule
from core.schema import BoundingBox, CheckResult, Detection
from runtime.advice import Advice
from runtime.catalogues import Catalogues
from tests.builders import images
from tests.builders.catalogues import write_catalogue

CATALOGUES = Catalogues()
SMALL = images.encode(images.sharp_photo(400, 300))
BLURRED = images.encode(images.gaussian_blurred(images.sharp_photo(1280, 960), 6.0))


def _result(name: str, passed: bool, code: str, values: dict[str, object]) -> CheckResult:
    return CheckResult.model_validate(
        {"name": name, "passed": passed, "score": 100 if passed else 0, "weight": 1,
         "values": values, "thresholds": {}, "reason_code": code, "duration_ms": 0}
    )  # fmt: skip


def test_numbers_are_written_the_languages_way() -> None:
    resolution = score(SMALL, builtin_profile("default")).checks["resolution"]
    english = Advice(CATALOGUES, "en").reason(resolution)
    assert english == (
        "The photo is 400×300 pixels (0.12 MP); at least 800×600 and 0.48 MP are needed."
    )
    french = Advice(CATALOGUES, "fr").reason(resolution)
    assert "400×300" in french and "0,12" in french and "0,48" in french


def test_percentages_and_direction() -> None:
    clipped = _result("exposure", False, "highlights_clipped", {"highlight_clip_fraction": 0.35})
    assert Advice(CATALOGUES, "en").reason(clipped).startswith("35%")
    assert Advice(CATALOGUES, "fr").reason(clipped).startswith("35\xa0%")  # CLDR: a space
    assert Advice(CATALOGUES, "ar").direction == "rtl"
    assert Advice(CATALOGUES, "es").direction == "ltr"


@pytest.mark.parametrize("language", ["es", "fr", "pt", "ar", "hi", "zh"])
def test_a_blurred_photo_is_explained_in_every_language(language: str) -> None:
    verdict = score(BLURRED, builtin_profile("default"))
    english, local = Advice(CATALOGUES, "en"), Advice(CATALOGUES, language)
    blur = verdict.checks["blur"]
    sharpness = f"{blur.values['sharpness']:.0f}"
    assert sharpness in local.reason(blur) and local.reason(blur) != english.reason(blur)
    assert local.advice(blur) in local.recommendations(verdict)
    assert len(local.recommendations(verdict)) == len(english.recommendations(verdict))


def test_advice_appears_once_per_distinct_text() -> None:
    verdict = score(images.encode(images.sharp_photo(1280, 960)), builtin_profile("default"))
    failed = [check for check in verdict.checks.values() if not check.passed]
    advice = Advice(CATALOGUES, "en")
    assert advice.recommendations(verdict) == list(dict.fromkeys(map(advice.advice, failed)))
    assert all(advice.advice(check) is None for check in verdict.checks.values() if check.passed)


def test_detector_labels_are_translated_lists() -> None:
    box = BoundingBox(x1=0, y1=0, x2=1, y2=1)
    found = [
        Detection(label=label, class_id=0, confidence=0.9, box=box, redact=True)
        for label in ("person", "person", "car")
    ]
    finding = privacy_finding(found, PrivacyRule(weight=1, fail_when_found=True))
    check = _result("privacy", False, finding.reason_code, dict(finding.values))
    assert Advice(CATALOGUES, "en").reason(check) == "The photo shows people and cars."
    assert Advice(CATALOGUES, "es").reason(check) == "La foto muestra personas y coches."
    subject = subject_finding([], SubjectRule(weight=1, required=["pothole", "graffiti"]))
    missing = CheckResult.model_validate(
        _result("subject", True, subject.reason_code, {}).model_dump()
        | {"thresholds": dict(subject.thresholds)}
    )
    assert "pothole or graffiti" in Advice(CATALOGUES, "en").reason(missing)


def test_a_translation_with_a_wrong_placeholder_falls_back_to_english(tmp_path: Path) -> None:
    write_catalogue(tmp_path / "es.po", "es", {"blur.too_blurry": "Borrosa ({nitidez})."})
    verdict = score(BLURRED, builtin_profile("default"))
    city = Advice(Catalogues(tmp_path), "es")
    assert city.reason(verdict.checks["blur"]) == Advice(CATALOGUES, "en").reason(
        verdict.checks["blur"]
    )
    assert city.text("no.such.key") == "no.such.key"


def test_an_unreadable_photo_gets_the_advice_for_its_error() -> None:
    verdict = score(b"\xff\xd8\xff\xe0" + b"\x00" * 100, builtin_profile("default"))
    assert verdict.error is not None
    text = Advice(CATALOGUES, "pt").error_advice(verdict.error)
    assert text == CATALOGUES.text("pt", f"error.{verdict.error.code.value}")


def test_a_close_call_on_a_blocking_check_gets_a_note() -> None:
    verdict = score(BLURRED, builtin_profile("default"))
    near = {
        name: check.model_copy(update={"near_threshold": True, "blocking": True})
        for name, check in verdict.checks.items()
    }
    close = verdict.model_copy(update={"checks": near})
    advice = Advice(CATALOGUES, "es")
    notes = advice.recommendations(close)[len(advice.recommendations(verdict)) :]
    blur = advice.text("near.failed", check="Nitidez")
    assert blur.startswith("Apenas por debajo del límite (Nitidez)") and blur in notes
    assert advice.text("near.passed", check="Tamaño") in notes
    assert not any("Información de la cámara" in note for note in notes)  # never decides
