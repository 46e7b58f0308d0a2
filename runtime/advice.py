"""A verdict's codes and values as text a citizen reads, in one language.

The engine's verdicts carry no prose, only reason codes and measured values, so a
verdict event means the same to every subscriber whatever its language. This is where
they become sentences: ``<check>.<reason_code>`` is the reason, ``<check>.<reason_code>.advice``
what to do, ``error.<code>`` what to do with an unreadable photo, all looked up in
:class:`~runtime.catalogues.Catalogues`. Numbers, percentages and lists are written the
way the language writes them (Babel's CLDR data: ``0,48`` in French, ``٣٥٪`` in Arabic).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from babel import Locale, UnknownLocaleError
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent

from core.schema import CheckResult, ErrorInfo, Scalar
from runtime.catalogues import FALLBACK, Catalogues

#: Values shown as whole numbers; others keep up to two decimals.
_WHOLE = frozenset({"sharpness", "min_sharpness", "mean_brightness", "jpeg_quality"})
#: Checks whose measurement can be "close to the limit".
_NEAR_NOTES = frozenset({"blur", "brightness", "exposure", "resolution", "compression"})
#: Comma-separated detector labels, shown as a list of translated ``label.<name>`` texts.
_LABELS = frozenset({"labels", "required", "classes"})


class Scored(Protocol):
    """A scored photo: the engine's verdict (the CLI) or the verdict event (the API)."""

    @property
    def checks(self) -> Mapping[str, CheckResult]: ...


def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FALLBACK)


class Advice:
    """Texts in one language; satisfies the legacy API's ``Texts`` and serves the page."""

    def __init__(self, catalogues: Catalogues, language: str) -> None:
        self._catalogues = catalogues
        self.language = language
        self._locale = _locale(language)

    @property
    def direction(self) -> str:
        """``rtl`` or ``ltr``, for the page's ``dir`` attribute."""
        return "rtl" if self._locale.text_direction == "rtl" else "ltr"

    def text(self, key: str, **values: object) -> str:
        """The text of ``key`` with its placeholders filled; the key itself if none exists.

        A translation whose placeholders don't match falls back to English, so a typo
        in a catalogue shows English rather than breaking an answer.
        """
        for language in (self.language, FALLBACK):
            template = self._catalogues.text(language, key)
            if template is None:
                continue
            try:
                return template.format_map(values)
            except (KeyError, IndexError, ValueError):
                continue
        return key

    def template(self, key: str) -> str:
        """The text of ``key`` with its ``{placeholders}`` left in, for a script to fill."""
        found = self._catalogues.text(self.language, key)
        return key if found is None else found

    def check_name(self, name: str) -> str:
        found = self._catalogues.text(self.language, f"check.{name}")
        return name if found is None else found

    def reason(self, check: CheckResult) -> str:
        return self.text(f"{check.name}.{check.reason_code}", **self._placeholders(check))

    def advice(self, check: CheckResult) -> str | None:
        """What to do about a failed check; None when the catalogues have no advice for it."""
        key = f"{check.name}.{check.reason_code}.advice"
        return None if self._catalogues.text(self.language, key) is None else self.text(key)

    def recommendations(self, verdict: Scored) -> list[str]:
        """The advice of every failed check, each distinct text once, then near-threshold notes.

        A photo that only just failed a blocking check is told a small change will do;
        one that only just passed is told a retake would be safer. Checks that never
        decide on a measurement (metadata, privacy, subject) get no note.
        """
        found = (self.advice(check) for check in verdict.checks.values() if not check.passed)
        advice = [text for text in dict.fromkeys(found) if text]
        for check in verdict.checks.values():
            if check.near_threshold and check.blocking and check.name in _NEAR_NOTES:
                key = "near.passed" if check.passed else "near.failed"
                advice.append(self.text(key, check=self.check_name(check.name)))
        return advice

    def error_advice(self, error: ErrorInfo | None) -> str:
        return self.text(f"error.{error.code.value if error else 'unreadable'}")

    def _placeholders(self, check: CheckResult) -> dict[str, str]:
        """The check's values and thresholds, written for this language."""
        merged: Mapping[str, Scalar] = {**check.thresholds, **check.values}
        out = {}
        for key, value in merged.items():
            if isinstance(value, bool) or value is None:
                continue
            if isinstance(value, int | float):
                if key.endswith("_clip_fraction"):
                    out[key.removesuffix("_fraction") + "_percent"] = format_percent(
                        value, locale=self._locale
                    )
                pattern = "0" if key in _WHOLE else "0.##"
                out[key] = format_decimal(value, format=pattern, locale=self._locale)
            elif key in _LABELS:
                out[key] = self._labels(value.split(","), any_of=key == "required")
            else:
                out[key] = value
        if check.thresholds.get("require_all") is True and "required" in merged:
            out["required"] = self._labels(str(merged["required"]).split(","), any_of=False)
        return out

    def _labels(self, labels: list[str], *, any_of: bool) -> str:
        names = [
            self.text(f"label.{label}") if self._has_label(label) else label for label in labels
        ]
        kept = [name for name in names if name]
        if any_of:
            return format_list(kept, style="or", locale=self._locale)
        return format_list(kept, style="standard", locale=self._locale)

    def _has_label(self, label: str) -> bool:
        return self._catalogues.text(self.language, f"label.{label}") is not None
