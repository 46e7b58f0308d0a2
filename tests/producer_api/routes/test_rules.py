from __future__ import annotations

from fastapi.testclient import TestClient

from core import BUILTIN_PROFILES, builtin_profile


def test_rules_lists_every_profile(offline_client: TestClient) -> None:
    body = offline_client.get("/v1/rules").json()
    assert body["default_profile"] == "default"
    assert set(BUILTIN_PROFILES) <= body["profiles"].keys()
    assert body["profiles"]["default"]["name"] == builtin_profile("default").name
