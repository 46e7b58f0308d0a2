"""The upload page and its assets are served by the API, at the reference's address too."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("path", ["/", "/mobile", "/mobile_upload.html"])
def test_the_page_is_served(offline_client: TestClient, path: str) -> None:
    response = offline_client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert 'capture="environment"' in page and 'accept="image/*"' in page
    assert 'aria-live="polite"' in page
    # No inline script or style: the page works under a CSP without 'unsafe-inline'.
    assert "<script>" not in page and "<style" not in page and " style=" not in page


@pytest.mark.parametrize(
    ("path", "media_type"),
    [("/static/app.js", "text/javascript"), ("/static/style.css", "text/css")],
)
def test_the_assets_are_served(offline_client: TestClient, path: str, media_type: str) -> None:
    response = offline_client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)


def test_the_page_is_not_in_the_api_schema(offline_client: TestClient) -> None:
    paths = offline_client.get("/openapi.json").json()["paths"]
    assert not {"/", "/mobile", "/mobile_upload.html"} & set(paths)
