"""The shipped message catalogues are complete, consistent, and a city can extend them."""

from __future__ import annotations

import string
from pathlib import Path

import pytest

from core.checks import REASON_CODES
from core.rules import PrivacyRule
from core.schema import ErrorCode
from producer_api.routes.pages import SCRIPT_TEXTS
from runtime.catalogues import BUILTIN_DIR, FALLBACK, Catalogues
from tests.builders.catalogues import write_catalogue

#: Codes of a check that passed: there is nothing to advise.
PASSING = frozenset(
    {"sharp", "sufficient", "ok", "not_applicable", "nothing_to_redact", "redaction_required",
     "subject_found", "subject_not_found"}
)  # fmt: skip
CATALOGUES = Catalogues()
SHIPPED = [language for language in CATALOGUES.languages if language != FALLBACK]


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_english_and_at_least_four_languages_ship() -> None:
    assert FALLBACK in CATALOGUES.languages
    assert {"es", "fr", "pt", "ar", "hi", "zh"} <= set(SHIPPED)
    assert {path.stem for path in BUILTIN_DIR.glob("*.po")} == set(CATALOGUES.languages)


def test_english_has_a_text_for_every_code_the_engine_gives() -> None:
    english = CATALOGUES.keys(FALLBACK)
    for check, codes in REASON_CODES.items():
        assert f"check.{check}" in english
        for code in codes:
            assert f"{check}.{code}" in english
            assert (f"{check}.{code}.advice" in english) == (code not in PASSING), (check, code)
    assert {f"error.{code.value}" for code in ErrorCode} <= english
    assert {f"label.{label}" for label in PrivacyRule(weight=1).classes} <= english
    assert {f"page.{name}" for name in SCRIPT_TEXTS} <= english


@pytest.mark.parametrize("language", SHIPPED)
def test_every_language_translates_every_key_with_the_same_placeholders(language: str) -> None:
    english, translated = CATALOGUES.keys(FALLBACK), CATALOGUES.keys(language)
    assert translated == english, sorted(translated ^ english)
    for key in english:
        ours, theirs = CATALOGUES.text(FALLBACK, key), CATALOGUES.text(language, key)
        assert ours is not None and theirs is not None
        assert _placeholders(theirs) == _placeholders(ours), key
        if key.startswith(("blur.", "brightness.", "exposure.", "error.", "page.lead")):
            assert theirs != ours, f"{language} {key} is still English"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es-MX,es;q=0.9,en;q=0.8", "es"),
        ("de-DE,de;q=0.9,fr;q=0.5", "fr"),
        ("en;q=0.1, ar;q=0.9", "ar"),
        ("zh-CN", "zh"),
        ("pt-BR", "pt"),
        ("fr;q=0, es", "es"),
        ("*", "en"),
        ("de", "en"),
        ("", "en"),
        (None, "en"),
        ("es;q=nonsense, fr", "fr"),
    ],
)
def test_negotiation(header: str | None, expected: str) -> None:
    assert CATALOGUES.negotiate(header) == expected


def test_a_city_adds_a_language_and_rewords_ours(tmp_path: Path) -> None:
    write_catalogue(tmp_path / "de.po", "de", {"blur.sharp": "Das Foto ist scharf."})
    write_catalogue(tmp_path / "es.po", "es", {"page.heading": "Foto para el Ayuntamiento"})
    city = Catalogues(tmp_path)
    assert city.negotiate("de-AT") == "de"
    assert city.text("de", "blur.sharp") == "Das Foto ist scharf."
    assert city.text("de", "blur.too_blurry") == CATALOGUES.text("en", "blur.too_blurry")
    assert city.text("es", "page.heading") == "Foto para el Ayuntamiento"
    assert city.text("es", "page.take") == CATALOGUES.text("es", "page.take")


def test_a_broken_city_catalogue_fails_at_start_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "it.po").write_text('msgid "blur.sharp"\nmsgtsr "typo"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"it\.po"):
        Catalogues(tmp_path)
    with pytest.raises(ValueError, match="not a folder"):
        Catalogues(tmp_path / "missing")


@pytest.mark.parametrize("header", ["en", "hi-IN", "pt-BR", "de", "fr;q=0.5, es-MX", ""])
def test_only_the_languages_a_header_can_use_answer_as_all_of_them(header: str) -> None:
    """``civicqc score --lang`` reads fewer files and must not read different texts."""
    few = Catalogues(only_for=header)
    language = CATALOGUES.negotiate(header)
    assert few.negotiate(header) == language
    assert len(few.languages) < len(CATALOGUES.languages)
    keys = CATALOGUES.keys("en")
    assert {key: few.text(language, key) for key in keys} == {
        key: CATALOGUES.text(language, key) for key in keys
    }
