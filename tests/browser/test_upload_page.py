"""The citizen upload page in a real browser, at a phone viewport, on the real stream."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import FilePayload, Page

from runtime.catalogues import Catalogues
from tests.browser.conftest import PHONE
from tests.builders import images

pytestmark = pytest.mark.integration

GOOD = images.encode(images.sharp_photo(1280, 960), exif=images.exif_bytes(gps=(52.5, 13.4)))
BLURRED = images.encode(images.gaussian_blurred(images.sharp_photo(1280, 960), 6.0))
VERDICT_TIMEOUT_MS = 30_000
TEXTS = Catalogues()
#: axe-core impact levels that fail a test.
BLOCKING_IMPACTS = ("serious", "critical")


def _file(name: str, data: bytes) -> FilePayload:
    return FilePayload(name=name, mimeType="image/jpeg", buffer=data)


def _upload(page: Page, selector: str, name: str, data: bytes) -> None:
    page.set_input_files(selector, files=[_file(name, data)])


def _wait_verdict(page: Page, outcome: str) -> None:
    page.wait_for_selector(f'#result[data-verdict="{outcome}"]', timeout=VERDICT_TIMEOUT_MS)


def _text(language: str, key: str) -> str:
    text = TEXTS.text(language, key)
    assert text is not None, key
    return text


def axe_violations(page: Page, axe_source: str, name: str, artifacts: Path) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.x A/AA and best-practice run on the page as it is now.

    The script is evaluated over the DevTools protocol, so the page's CSP (which
    allows no injected script) stays on. The full report goes to ``test-artifacts``.
    """
    page.evaluate(axe_source)
    results: dict[str, Any] = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
            resultTypes: ["violations"],
        })"""
    )
    assert len(results["passes"]) >= 10, "axe did not run its rules"
    (artifacts / f"axe-{name}-summary.json").write_text(
        json.dumps(
            {kind: sorted(r["id"] for r in results[kind]) for kind in ("passes", "incomplete")},
            indent=1,
        ),
        encoding="utf-8",
    )
    violations: list[dict[str, Any]] = results["violations"]
    report = [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [n["target"] for n in v["nodes"]],
        }
        for v in violations
    ]
    (artifacts / f"axe-{name}.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report


def _blocking(report: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in report if v["impact"] in BLOCKING_IMPACTS]


def test_a_good_photo_is_accepted(page: Page, site: str) -> None:
    page.goto(f"{site}/")
    _upload(page, "#gallery", "good.jpg", GOOD)
    _wait_verdict(page, "accepted")

    assert "accepted" in page.inner_text("#result-title").lower()
    assert "accepted" in page.inner_text("#status").lower()
    assert page.eval_on_selector("#progress", "p => p.value") == 100
    assert page.inner_text('#checks li[data-check="blur"]').startswith("Sharpness: passed")
    assert _text("en", "blur.sharp") in page.inner_text('#checks li[data-check="blur"]')
    assert page.is_visible("#another") and not page.is_visible("#retake")
    # The verdict title takes the focus, so screen readers and keyboards land on it.
    assert page.evaluate("document.activeElement.id") == "result-title"


def test_a_blurred_photo_is_rejected_with_advice_then_retaken(
    page: Page, site: str, artifacts: Path
) -> None:
    page.goto(f"{site}/mobile")
    _upload(page, "#camera", "blurred.jpg", BLURRED)
    _wait_verdict(page, "rejected")

    assert "rejected" in page.inner_text("#result-title").lower()
    assert _text("en", "blur.too_blurry.advice") in page.inner_text("#recommendations")
    assert "Sharpness: needs work" in page.inner_text('#checks li[data-check="blur"]')
    page.screenshot(path=str(artifacts / "upload-page-rejected.png"), full_page=True)

    # Retake opens the camera picker; the new photo replaces the old verdict.
    with page.expect_file_chooser() as chooser:
        page.click("#retake")
    chooser.value.set_files(files=[_file("retake.jpg", GOOD)])
    _wait_verdict(page, "accepted")
    page.screenshot(path=str(artifacts / "upload-page-accepted.png"), full_page=True)


@pytest.mark.parametrize(
    ("locale", "language", "direction"), [("es-ES", "es", "ltr"), ("ar-EG", "ar", "rtl")]
)
def test_the_page_and_its_advice_are_in_the_browsers_language(
    open_page: Callable[[str], Page],
    site: str,
    artifacts: Path,
    locale: str,
    language: str,
    direction: str,
) -> None:
    page = open_page(locale)
    page.goto(f"{site}/")
    assert page.get_attribute("html", "lang") == language
    assert page.get_attribute("html", "dir") == direction
    assert page.title() == _text(language, "page.title")
    assert page.inner_text('label[for="camera"]') == _text(language, "page.take")

    _upload(page, "#camera", "blurred.jpg", BLURRED)
    _wait_verdict(page, "rejected")
    assert page.inner_text("#result-title") == _text(language, "page.rejected")
    assert _text(language, "blur.too_blurry.advice") in page.inner_text("#recommendations")
    blur = page.inner_text('#checks li[data-check="blur"]')
    assert blur.startswith(_text(language, "check.blur"))
    assert _text(language, "page.needs_work") in blur
    assert "The photo" not in page.inner_text("#result"), "English left on the page"
    page.screenshot(path=str(artifacts / f"upload-page-{language}.png"), full_page=True)


@pytest.mark.parametrize(("locale", "language"), [("en-US", "en"), ("ar-EG", "ar")])
def test_axe_finds_no_serious_or_critical_violation(
    open_page: Callable[[str], Page],
    site: str,
    artifacts: Path,
    axe_source: str,
    locale: str,
    language: str,
) -> None:
    """Before and after a verdict (the result panel, its colours and the focus move)."""
    page = open_page(locale)
    page.goto(f"{site}/")
    start = axe_violations(page, axe_source, f"{language}-start", artifacts)
    _upload(page, "#camera", "blurred.jpg", BLURRED)
    _wait_verdict(page, "rejected")
    verdict = axe_violations(page, axe_source, f"{language}-rejected", artifacts)
    assert _blocking(start) == [] and _blocking(verdict) == []


def test_the_page_fits_a_phone_and_works_by_keyboard(page: Page, site: str) -> None:
    page.goto(f"{site}/mobile_upload.html")  # the reference system's address still works
    assert page.viewport_size == PHONE

    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], "horizontal scroll at phone width"
    for input_id, label in (("camera", "Take a photo"), ("gallery", "Choose a photo")):
        button = page.locator(f'label[for="{input_id}"]')
        assert button.inner_text() == label
        box = button.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert box["y"] + box["height"] <= PHONE["height"], f"{label!r} below the fold"
        assert box["height"] >= 44, f"{label!r} is too small a touch target"

    # The first Tab reaches the camera input, whose label shows the focus ring.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "camera"
    assert page.get_attribute("#camera", "capture") == "environment"
    assert page.get_attribute("#status", "aria-live") == "polite"


def test_a_photo_sent_again_is_accepted_with_a_kind_word_that_it_already_came(
    open_page: Callable[[str], Page], site: str, artifacts: Path
) -> None:
    """The consumer reuses the first verdict for identical bytes (``duplicate_of``); the
    page thanks the citizen and says there is no need to send it again, in their language."""
    again = images.encode(images.sharp_photo(1280, 960, name="coffee"), quality=88)
    page = open_page("en-US")
    page.goto(f"{site}/")
    _upload(page, "#gallery", "first.jpg", again)
    _wait_verdict(page, "accepted")
    assert not page.is_visible("#already-sent")

    page.click("#another")
    _upload(page, "#gallery", "again.jpg", again)
    _wait_verdict(page, "accepted")
    assert page.inner_text("#already-sent") == _text("en", "page.already_sent")
    assert page.is_visible("#already-sent")
    assert page.inner_text("#status").endswith(_text("en", "page.already_sent"))
    assert page.inner_text("#result-title") == _text("en", "page.accepted")
    page.screenshot(path=str(artifacts / "upload-page-already-sent.png"), full_page=True)

    spanish = open_page("es-ES")
    spanish.goto(f"{site}/")
    _upload(spanish, "#camera", "otra-vez.jpg", again)
    _wait_verdict(spanish, "accepted")
    assert spanish.inner_text("#already-sent") == _text("es", "page.already_sent")
