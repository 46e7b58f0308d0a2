"""The upload page and its assets are served by the API, at the reference's address too."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from producer_api.routes.pages import SCRIPT_TEXTS, render_page
from runtime.advice import Advice
from runtime.catalogues import Catalogues


@pytest.mark.parametrize("path", ["/", "/mobile", "/mobile_upload.html"])
def test_the_page_is_served(offline_client: TestClient, path: str) -> None:
    response = offline_client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert 'capture="environment"' in page and 'accept="image/*"' in page
    assert 'aria-live="polite"' in page
    # No inline script or style: the page works under a CSP without 'unsafe-inline'.
    # Its one inline <script> element is a JSON data block, which browsers never run.
    assert "<script>" not in page and "<style" not in page and " style=" not in page
    assert page.count("<script") == 2 and '<script type="application/json"' in page
    assert "{{" not in page, "a placeholder was left unfilled"


@pytest.mark.parametrize(
    ("accept", "lang", "direction", "button"),
    [
        (None, "en", "ltr", "Take a photo"),
        ("es-ES,es;q=0.9", "es", "ltr", "Tomar una foto"),
        ("fr-FR", "fr", "ltr", "Prendre une photo"),
        ("ar", "ar", "rtl", "التقط صورة"),
        ("sw, de;q=0.5", "en", "ltr", "Take a photo"),
    ],
)
def test_the_page_is_in_the_browsers_language(
    offline_client: TestClient, accept: str | None, lang: str, direction: str, button: str
) -> None:
    headers = {"Accept-Language": accept} if accept else {}
    response = offline_client.get("/", headers=headers)
    assert response.headers["Content-Language"] == lang
    assert "Accept-Language" in response.headers["Vary"]
    page = response.text
    assert f'<html lang="{lang}" dir="{direction}">' in page
    assert f'<label for="camera" class="button primary">{button}</label>' in page
    texts = json.loads(page.split('id="page-texts">')[1].split("</script>")[0])
    assert set(texts) == set(SCRIPT_TEXTS) and all(texts.values())
    assert "{score}" in texts["score"] and "{needed}" in texts["score"]


def test_script_texts_cannot_close_their_element() -> None:
    catalogues = Catalogues()
    page = render_page('<script type="application/json">{{texts}}</script>', _Hostile(catalogues))
    assert page.count("</script>") == 1 and "\\u003c/script>" in page


class _Hostile(Advice):
    def __init__(self, catalogues: Catalogues) -> None:
        super().__init__(catalogues, "en")

    def template(self, key: str) -> str:
        return "</script><script>alert(1)</script>"


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
