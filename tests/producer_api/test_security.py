"""API keys, tenant scope, rate limits, CORS, security headers; /metrics off the public port.

Offline apps (closed ports for Kafka and S3) are enough where the answer comes before
any dependency is used; a valid key there gets as far as 503. Tenant checks on reads
use the real object store.
"""

from __future__ import annotations

import hmac
import io
import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from civicqc.cli import main as cli_main
from consumer.settings import ConsumerSettings
from core import score
from core.events import Location, SubmissionMetadata, VerdictEvent
from core.profiles import builtin_profile
from producer_api.main import create_app
from producer_api.security import Principal, RateLimiter
from producer_api.settings import Settings
from runtime import apikeys
from runtime.apikeys import (
    ApiKeyRecord,
    KeyRole,
    KeysFileError,
    new_key,
    read_keys,
)
from runtime.ids import new_image_id
from runtime.layout import Folder, verdict_key
from tests.builders import images
from tests.builders.refs import jpeg_ref
from tests.producer_api.conftest import ORIGIN, Keys, LiveApi, jpeg_bytes, secured
from tests.producer_api.served import served


@pytest.fixture
def client(offline_settings: Settings, keys: Keys) -> Iterator[TestClient]:
    app = create_app(secured(offline_settings, keys), CollectorRegistry(), json_logs=False)
    with TestClient(app) as test_client:
        yield test_client


def _upload(client: TestClient, key: str | None, tenant: str | None = None, **headers: str):
    sent = {"Content-Type": "image/jpeg", **headers}
    if key is not None:
        sent["X-API-Key"] = key
    if tenant is not None:
        sent["X-Tenant"] = tenant
    return client.post("/v1/images", content=jpeg_bytes(), headers=sent)


def test_upload_without_or_with_an_unknown_key_is_401(client: TestClient, keys: Keys) -> None:
    good = keys.add("springfield")
    missing = _upload(client, None)
    assert missing.status_code == 401
    assert missing.json()["code"] == "missing_api_key"
    assert "Bearer" in missing.headers["WWW-Authenticate"]
    forged = good[:-4] + ("aaaa" if not good.endswith("aaaa") else "bbbb")
    for bad in ("nonsense", forged, "cqc_00000000_" + "x" * 43):
        answer = _upload(client, bad)
        assert answer.status_code == 401, bad
        assert answer.json()["code"] == "invalid_api_key"


def test_a_valid_key_gets_past_auth_as_header_or_bearer(client: TestClient, keys: Keys) -> None:
    key = keys.add("springfield")
    # The dependencies are down in this app: getting 503 means auth let the request in.
    assert _upload(client, key).status_code == 503
    bearer = client.post(
        "/v1/images",
        content=jpeg_bytes(),
        headers={"Content-Type": "image/jpeg", "Authorization": f"Bearer {key}"},
    )
    assert bearer.status_code == 503


def test_a_key_used_for_another_tenant_is_403(client: TestClient, keys: Keys) -> None:
    key = keys.add("springfield")
    assert _upload(client, key, tenant="shelbyville").status_code == 403
    form = client.post(
        "/v1/images",
        headers={"X-API-Key": key},
        files={"image": ("a.jpg", jpeg_bytes(), "image/jpeg")},
        data={"tenant": "shelbyville"},
    )
    # The form's tenant is known only after the body; the offline store fails first
    # here, so either answer is a refusal. With a live store it is 403 (below).
    assert form.status_code in (403, 503)
    operator = keys.add("*", KeyRole.OPERATOR)
    assert _upload(client, operator, tenant="shelbyville").status_code == 503


def test_public_and_tenant_keys_are_kept_off_operator_routes(
    client: TestClient, keys: Keys
) -> None:
    public = keys.add("springfield", KeyRole.PUBLIC)
    tenant = keys.add("springfield")
    operator = keys.add("*", KeyRole.OPERATOR)
    for rules in ("/v1/rules", "/api/validation-rules"):
        refused = client.get(rules, headers={"X-API-Key": public})
        assert refused.status_code == 403, rules
        assert client.get(rules, headers={"X-API-Key": tenant}).status_code == 200, rules
    for counts in ("/v1/summary", "/api/summary"):
        for key in (public, tenant):
            assert client.get(counts, headers={"X-API-Key": key}).status_code == 403, counts
        assert client.get(counts, headers={"X-API-Key": operator}).status_code in (200, 503)
    assert _upload(client, public, tenant="shelbyville").status_code == 403
    assert client.get("/api/test-api").status_code == 401  # /api/health needs no key


def test_a_hand_edited_public_key_for_every_tenant_is_refused(
    client: TestClient, keys: Keys
) -> None:
    key, record = new_key("springfield", KeyRole.PUBLIC)
    widened = record.model_dump(mode="json") | {"tenant": "*"}
    keys.path.write_text(json.dumps({"version": 1, "keys": [widened]}), encoding="utf-8")
    with pytest.raises(KeysFileError, match="only operator keys"):
        read_keys(keys.path)
    time.sleep(0.05)
    # With the file taken, the key would get as far as the (offline) store: 503.
    answer = client.get(f"/v1/images/{new_image_id()}", headers={"X-API-Key": key})
    assert answer.status_code == 401
    assert not Principal("0badc0de", "*", KeyRole.PUBLIC).may_act_for("shelbyville")


def test_keys_are_added_and_revoked_without_a_restart(client: TestClient, keys: Keys) -> None:
    key = keys.add("springfield")
    assert client.get("/v1/rules", headers={"X-API-Key": key}).status_code == 200
    keys.revoke(key)
    time.sleep(0.05)
    assert client.get("/v1/rules", headers={"X-API-Key": key}).status_code == 401
    later = keys.add("springfield")
    time.sleep(0.05)
    assert client.get("/v1/rules", headers={"X-API-Key": later}).status_code == 200


def test_a_broken_keys_file_keeps_the_last_good_keys(client: TestClient, keys: Keys) -> None:
    key = keys.add("springfield")
    assert client.get("/v1/rules", headers={"X-API-Key": key}).status_code == 200
    keys.path.write_text("{ half written", encoding="utf-8")
    time.sleep(0.05)
    assert client.get("/v1/rules", headers={"X-API-Key": key}).status_code == 200


def test_rate_limit_answers_429_with_retry_after(client: TestClient, keys: Keys) -> None:
    key = keys.add("springfield", rate_per_s=0.2, burst=3)
    codes = [client.get("/v1/rules", headers={"X-API-Key": key}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.get("/v1/rules", headers={"X-API-Key": key})
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 5
    other = keys.add("springfield")
    assert client.get("/v1/rules", headers={"X-API-Key": other}).status_code == 200


def test_token_bucket_refills_at_its_rate() -> None:
    limiter = RateLimiter()
    assert limiter.wait_s("k", rate_per_s=1000.0, burst=1) == 0.0
    assert limiter.wait_s("k", rate_per_s=1000.0, burst=1) > 0.0
    time.sleep(0.01)
    assert limiter.wait_s("k", rate_per_s=1000.0, burst=1) == 0.0


def test_security_headers_and_cors_for_the_upload_page(client: TestClient, keys: Keys) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    preflight = client.options(
        "/v1/images",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "X-API-Key, Content-Type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    refused = _upload(client, None, Origin=ORIGIN)
    assert refused.status_code == 401
    assert refused.headers["Access-Control-Allow-Origin"] == ORIGIN
    stranger = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in stranger.headers
    page_csp = client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in page_csp and "unsafe-inline" not in page_csp


def test_cors_is_off_unless_origins_are_named(offline_client: TestClient) -> None:
    preflight = offline_client.options(
        "/v1/images",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_a_key_in_the_page_link_stays_out_of_the_access_log(
    offline_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "cqc_0badc0de_" + "s" * 43
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    app = create_app(offline_settings, CollectorRegistry(), json_logs=False)
    with served(app) as url:
        assert httpx.get(f"{url}/?lang=en&key={secret}", timeout=10).status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert any("GET /?lang=en&key=[redacted]" in line for line in lines), lines
    assert secret not in caplog.text


def test_an_internal_error_carries_the_security_headers(offline_settings: Settings) -> None:
    app = create_app(offline_settings, CollectorRegistry(), json_logs=False)

    async def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)
    with TestClient(app, raise_server_exceptions=False) as plain:
        answer = plain.get("/broken")
    assert answer.status_code == 500
    assert answer.json()["code"] == "internal_error"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_metrics_are_on_their_own_port_never_the_public_one(
    offline_settings: Settings, keys: Keys
) -> None:
    operator = keys.add("*", KeyRole.OPERATOR)
    app = create_app(secured(offline_settings, keys), CollectorRegistry(), json_logs=False)
    # Over a real socket the client is 127.0.0.1: what an ingress or a mesh sidecar
    # on loopback looks like to the API.
    with served(app) as url:
        for path in ("/metrics", "/metrics/"):
            assert httpx.get(url + path, timeout=5).status_code == 404, path
            with_key = httpx.get(url + path, headers={"X-API-Key": operator}, timeout=5)
            assert with_key.status_code == 404, path
        port = app.state.metrics_port
        scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert scraped.status_code == 200
        assert "civicqc_api_requests_total" in scraped.text
    # Under a root path (uvicorn --root-path) the public port has no metrics either.
    with TestClient(app, root_path="/qc") as prefixed:
        assert prefixed.get("/qc/metrics/").status_code == 404
        assert prefixed.get("/qc/v1/rules", headers={"X-API-Key": operator}).status_code == 200


def test_auth_off_lets_everything_in(offline_settings: Settings) -> None:
    settings = offline_settings.model_copy(update={"auth_enabled": False})
    with TestClient(create_app(settings, CollectorRegistry(), json_logs=False)) as plain:
        assert plain.get("/v1/rules").status_code == 200


def test_auth_is_on_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTH_ENABLED", raising=False)
    assert Settings().auth_enabled is True


def test_auth_on_without_a_keys_file_refuses_every_key(offline_settings: Settings) -> None:
    settings = offline_settings.model_copy(update={"auth_enabled": True, "api_keys_file": None})
    key, _record = new_key("*", KeyRole.OPERATOR)
    with TestClient(create_app(settings, CollectorRegistry(), json_logs=False)) as closed:
        assert closed.get("/v1/rules", headers={"X-API-Key": key}).status_code == 401


def test_every_v1_v2_and_api_route_needs_a_key(client: TestClient) -> None:
    """All but the legacy /api/health (issue 16: the reference answers it without a key)."""
    checked = []
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        if not path.startswith(("/v1", "/v2", "/api")) or path == "/api/health":
            continue
        url = path.replace("{image_id}", str(new_image_id()))
        for method in operations:
            answer = client.request(method, url, headers={"Content-Type": "image/jpeg"})
            assert answer.status_code == 401, (method, path, answer.status_code)
            checked.append((method.upper(), path))
    assert ("POST", "/v1/images") in checked and ("GET", "/api/summary") in checked
    assert ("GET", "/v2/images/{image_id}") in checked


def test_what_anyone_may_read_without_a_key(client: TestClient) -> None:
    for path in ("/healthz", "/", "/mobile", "/static/app.js", "/api/health"):
        assert client.get(path).status_code == 200, path
    assert client.get("/readyz").status_code == 503  # dependencies down here, but no 401


def test_presented_keys_are_compared_in_constant_time_and_never_logged(
    client: TestClient,
    keys: Keys,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = keys.add("springfield")
    compared: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    caplog.set_level(logging.DEBUG)
    assert client.get("/v1/rules", headers={"X-API-Key": key}).status_code == 200
    forged = key[:-4] + ("aaaa" if not key.endswith("aaaa") else "bbbb")
    assert client.get("/v1/rules", headers={"X-API-Key": forged}).status_code == 401
    assert [b for _a, b in compared] == [apikeys.hash_key(key), apikeys.hash_key(forged)]
    secret = key.split("_", 2)[2]
    assert secret not in caplog.text and forged.split("_", 2)[2] not in caplog.text


def test_metrics_listeners_bind_loopback_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("METRICS_HOST", raising=False)
    assert Settings().metrics_host == "127.0.0.1"
    assert ConsumerSettings().metrics_host == "127.0.0.1"


def test_keys_cli_adds_lists_and_revokes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "keys.json"
    assert cli_main(["keys", "--file", str(path), "add", "--tenant", "springfield"]) == 0
    key = capsys.readouterr().out.strip()
    (record,) = read_keys(path).keys
    assert isinstance(record, ApiKeyRecord)
    assert key.startswith(f"cqc_{record.id}_")
    assert key not in path.read_text(encoding="utf-8")
    assert path.stat().st_mode & 0o077 == 0
    assert cli_main(["keys", "--file", str(path), "list"]) == 0
    assert record.id in capsys.readouterr().out
    assert (
        cli_main(["keys", "--file", str(path), "add", "--tenant", "x", "--role", "operator"]) == 2
    )
    assert cli_main(["keys", "--file", str(path), "revoke", record.id]) == 0
    assert read_keys(path).keys == []
    assert cli_main(["keys", "--file", str(path), "revoke", record.id]) == 1


@pytest.mark.integration
def test_live_tenant_scope_on_form_uploads_and_reads(live_api: LiveApi, keys: Keys) -> None:
    settings = secured(live_api.settings, keys)
    springfield = keys.add("springfield")
    shelbyville = keys.add("shelbyville")
    with TestClient(create_app(settings, CollectorRegistry(), json_logs=False)) as client:
        form = client.post(
            "/v1/images",
            headers={"X-API-Key": springfield},
            files={"image": ("a.jpg", jpeg_bytes(seed=7), "image/jpeg")},
            data={"tenant": "shelbyville"},
        )
        assert form.status_code == 403
        assert form.json()["code"] == "tenant_forbidden"
        assert live_api.keys(Folder.PHOTOS.prefix) == [], "the refused upload's object is removed"

        accepted = _upload(client, springfield)  # tenant defaults to the key's
        assert accepted.status_code == 202, accepted.text
        image_id = new_image_id()
        _store_verdict(live_api, str(image_id), "springfield")
        for path in (f"/v1/images/{image_id}", f"/v2/images/{image_id}"):
            assert client.get(path, headers={"X-API-Key": springfield}).status_code == 200
            assert client.get(path, headers={"X-API-Key": shelbyville}).status_code == 403
            assert client.get(path).status_code == 401


def _store_verdict(live: LiveApi, image_id: str, tenant: str) -> VerdictEvent:
    """What a consumer stores, for a photo with GPS in its EXIF and a reporter's location."""
    data = images.encode(images.sharp_photo(320, 240), exif=images.exif_bytes(gps=(52.5, 13.4)))
    verdict = score(data, builtin_profile("default"), image_id=image_id)
    event = VerdictEvent.of(
        image_id=image_id,
        submitted_at=datetime.now(UTC),
        scored_at=datetime.now(UTC),
        metadata=SubmissionMetadata(
            tenant=tenant,
            reporter_id="citizen-17",
            location=Location(latitude=52.52, longitude=13.40),
        ),
        object=jpeg_ref(f"accepted/{image_id}.jpg", bucket=live.bucket, size_bytes=len(data)),
        verdict=verdict,
    )
    body = event.model_dump_json().encode()
    live.s3.put_object(live.bucket, verdict_key(image_id), io.BytesIO(body), len(body))
    return event


@pytest.mark.integration
def test_live_idempotency_is_per_key_and_public_keys_see_no_personal_data(
    live_api: LiveApi, keys: Keys
) -> None:
    settings = secured(live_api.settings, keys)
    page = keys.add("springfield", KeyRole.PUBLIC)
    other_page = keys.add("springfield", KeyRole.PUBLIC)
    back_office = keys.add("springfield")
    with TestClient(create_app(settings, CollectorRegistry(), json_logs=False)) as client:
        guessable = {"Idempotency-Key": "report-1"}
        first = _upload(client, page, **guessable)
        assert first.status_code == 202, first.text
        assert _upload(client, page, **guessable).json()["id"] == first.json()["id"]
        probe = _upload(client, other_page, **guessable)
        assert probe.status_code == 202 and probe.json()["id"] != first.json()["id"]
        assert probe.json()["replayed"] is False

        image_id = str(new_image_id())
        stored = _store_verdict(live_api, image_id, "springfield")
        assert stored.exif is not None and stored.exif.gps is not None
        path = f"/v2/images/{image_id}"
        full = client.get(path, headers={"X-API-Key": back_office}).json()
        assert full["metadata"]["location"] is not None and full["exif"] is not None
        shown = client.get(path, headers={"X-API-Key": page}).json()
        assert shown["metadata"] == {
            "tenant": "springfield",
            "reporter_id": None,
            "category": None,
            "location": None,
        }
        assert shown["exif"] is None and shown["detections"] is None
        # No object-store URL (presigned or not) in any answer: photos never leave that way.
        for answer in (first.text, probe.text, json.dumps(full), json.dumps(shown)):
            assert "X-Amz-" not in answer and live_api.settings.s3_endpoint not in answer
        assert shown["outcome"] == stored.outcome.value
        assert shown["checks"] == stored.model_dump(mode="json")["checks"]
