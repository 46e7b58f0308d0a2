"""The citizen upload page in a real browser, at a phone viewport, on the real stream."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import FilePayload, Page

from core import builtin_profile, score
from tests.browser.conftest import PHONE
from tests.builders import images

pytestmark = pytest.mark.integration

GOOD = images.encode(images.sharp_photo(1280, 960), exif=images.exif_bytes(gps=(52.5, 13.4)))
BLURRED = images.encode(images.gaussian_blurred(images.sharp_photo(1280, 960), 6.0))
VERDICT_TIMEOUT_MS = 30_000


def _file(name: str, data: bytes) -> FilePayload:
    return FilePayload(name=name, mimeType="image/jpeg", buffer=data)


def _upload(page: Page, selector: str, name: str, data: bytes) -> None:
    page.set_input_files(selector, files=[_file(name, data)])


def _wait_verdict(page: Page, outcome: str) -> None:
    page.wait_for_selector(f'#result[data-verdict="{outcome}"]', timeout=VERDICT_TIMEOUT_MS)


def test_a_good_photo_is_accepted(page: Page, site: str) -> None:
    page.goto(f"{site}/")
    _upload(page, "#gallery", "good.jpg", GOOD)
    _wait_verdict(page, "accepted")

    assert "accepted" in page.inner_text("#result-title").lower()
    assert "accepted" in page.inner_text("#status").lower()
    assert page.eval_on_selector("#progress", "p => p.value") == 100
    assert page.inner_text('#checks li[data-check="blur"]').startswith("Sharpness: passed")
    assert page.is_visible("#another") and not page.is_visible("#retake")
    # The verdict title takes the focus, so screen readers and keyboards land on it.
    assert page.evaluate("document.activeElement.id") == "result-title"


def test_a_blurred_photo_is_rejected_with_advice_then_retaken(
    page: Page, site: str, artifacts: Path
) -> None:
    blur_advice = score(BLURRED, builtin_profile("default")).checks["blur"].recommendation
    assert blur_advice is not None

    page.goto(f"{site}/mobile")
    _upload(page, "#camera", "blurred.jpg", BLURRED)
    _wait_verdict(page, "rejected")

    assert "rejected" in page.inner_text("#result-title").lower()
    assert blur_advice in page.inner_text("#recommendations")
    assert "Sharpness: needs work" in page.inner_text('#checks li[data-check="blur"]')
    page.screenshot(path=str(artifacts / "upload-page-rejected.png"), full_page=True)

    # Retake opens the camera picker; the new photo replaces the old verdict.
    with page.expect_file_chooser() as chooser:
        page.click("#retake")
    chooser.value.set_files(files=[_file("retake.jpg", GOOD)])
    _wait_verdict(page, "accepted")
    page.screenshot(path=str(artifacts / "upload-page-accepted.png"), full_page=True)


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
