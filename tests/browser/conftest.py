"""Browser tests: Debian's chromium driven by Playwright, against the API and one consumer
running as processes on the session's real Kafka and S3.

Needs ``apt-get install chromium`` (never ``playwright install``) and the ``dev``
extra (``playwright``). Without chromium the tests skip, except with ``CI=true``,
where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from playwright.sync_api import BrowserContext, Error, Page, ViewportSize, sync_playwright

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


def _unavailable(message: str) -> NoReturn:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """One chromium with a fresh profile and a phone viewport, per test module.

    Module scope, not session: Playwright's sync API keeps an event loop running in
    the main thread while it is open, which would break every later test that calls
    ``asyncio.run``.
    """
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        try:
            context = playwright.chromium.launch_persistent_context(
                str(tmp_path_factory.mktemp("chromium-profile")),
                executable_path=str(CHROMIUM),
                args=CHROMIUM_ARGS,
                headless=True,
                viewport=PHONE,
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
                locale="en-US",
            )
        except Error as error:
            _unavailable(f"chromium did not start: {error.message}")
        try:
            yield context
        finally:
            context.close()


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
def page(browser_context: BrowserContext, site: str) -> Iterator[Page]:
    page = browser_context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        page.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
