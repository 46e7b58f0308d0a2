"""Browser tests: Debian's chromium driven by Playwright, against the API and one consumer
running as processes on the session's real Kafka and S3.

Needs ``apt-get install chromium`` (never ``playwright install``), the ``dev`` extra
(``playwright``) and axe-core from npm (``npm ci --prefix tests/browser``, which
``scripts/bootstrap.sh`` runs). Without them the tests skip, except with ``CI=true``,
where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Error,
    Page,
    ViewportSize,
    sync_playwright,
)

from tests.builders.stream_fixtures import running_site
from tests.fixtures.services import S3Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
#: A phone (iPhone 12-15 class) in CSS pixels.
PHONE = ViewportSize(width=390, height=844)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"


def _unavailable(message: str) -> NoReturn:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless chromium per test module; each test gets its own fresh context.

    Module scope, not session: Playwright's sync API keeps an event loop running in
    the main thread while it is open, which would break every later test that calls
    ``asyncio.run``.
    """
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
        except Error as error:
            _unavailable(f"chromium did not start: {error.message}")
        try:
            yield browser
        finally:
            browser.close()


def phone_context(browser: Browser, locale: str) -> BrowserContext:
    """A fresh profile on a phone viewport, its browser set to ``locale`` (e.g. es-ES).

    The locale is what a phone's language setting changes: ``navigator.language``
    and the ``Accept-Language`` header of every request.
    """
    return browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale=locale
    )


@pytest.fixture(scope="module")
def site(
    kafka_bootstrap_servers: str,
    s3_service: S3Service,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """The API and one consumer for the page tests (module-scoped); yields the API's URL."""
    logs = tmp_path_factory.mktemp("browser-stack")
    with running_site("browser", kafka_bootstrap_servers, s3_service, logs) as api:
        yield api.url


@pytest.fixture
def open_page(browser: Browser, site: str) -> Iterator[Callable[[str], Page]]:
    """``open_page(locale)``: a new page in a fresh phone context with that language."""
    contexts: list[BrowserContext] = []

    def open_(locale: str) -> Page:
        context = phone_context(browser, locale)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page: Callable[[str], Page]) -> Page:
    """A page in an English (en-US) phone browser."""
    return open_page("en-US")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script, as npm installed it (never fetched by a test)."""
    if not AXE.is_file():
        _unavailable(f"{AXE} missing: npm ci --prefix tests/browser")
    return AXE.read_text(encoding="utf-8")
