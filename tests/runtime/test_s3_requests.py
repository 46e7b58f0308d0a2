"""The store's requests, built and signed from public pieces and sent with ``http.client``:
what the SDK would have stored, read back through the SDK from the real store; and a
kept-alive connection the store closed is opened again once, never more."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from minio import Minio
from minio.commonconfig import Tags
from pydantic import SecretStr

from runtime.object_store import (
    DIGEST_METADATA,
    ObjectMissingError,
    ObjectStore,
    ObjectTooLargeError,
    StorageUnavailableError,
    StoreClient,
    store_client,
)
from runtime.s3_requests import S3RequestError, SignedRequests
from runtime.settings import CommonSettings
from tests.builders.loopback import serving
from tests.builders.sent_headers import recorded_requests
from tests.fixtures.services import S3Service

#: Keys whose quoting the SDK and we must agree on: spaces, ``+``, unicode, reserved marks.
_AWKWARD_KEYS = (
    "photos/a b+c.jpg",
    "photos/caf\u00e9 \u00fc\u00df/\u6771\u4eac.jpg",
    "photos/100% (1)&=?#;~,'!@$.jpg",
)


def _requests(settings: CommonSettings) -> SignedRequests:
    return SignedRequests.of(settings, connect_timeout_s=2.0, read_timeout_s=15.0)


def _store(settings: CommonSettings, bucket: str, workers: int) -> tuple[StoreClient, ObjectStore]:
    """Both clients of the store, and an object store of ``bucket`` with ``workers`` threads."""
    client = store_client(settings, connect_timeout_s=2.0, read_timeout_s=15.0, pool_size=2)
    return client, ObjectStore(client, bucket, max_workers=workers)


@pytest.mark.integration
async def test_tags_and_bodies_land_as_the_sdk_would_have_stored_them(
    s3_service: S3Service, make_bucket: Callable[[], str]
) -> None:
    """Sent by us, read back through the SDK."""
    bucket = make_bucket()
    client, store = _store(s3_service.settings(), bucket, workers=2)
    verdict = b'{"outcome": "accepted", "key": "caf\xc3\xa9"}'
    try:
        await store.put("photos/a b+c.jpg", b"\xff\xd8photo", "image/jpeg", {"verdict": "x y"})
        await store.put("verdicts/a.json", verdict, "application/json")
        await store.put("verdicts/empty.json", b"", "application/json")
        await store.tag("photos/a b+c.jpg", {"civicqc-verdict": "accepted", "kind": "a+b=c /d"})
        with pytest.raises(ObjectMissingError) as missing:
            await store.tag("photos/nothing.jpg", {"civicqc-verdict": "accepted"})
        assert await store.fetch("verdicts/a.json") == verdict
        assert await store.fetch("verdicts/empty.json") == b""
        assert await store.fetch("photos/a b+c.jpg") == b"\xff\xd8photo"
    finally:
        store.close()
    sdk = client.sdk
    assert missing.value.args == ("photos/nothing.jpg",)
    assert sdk.stat_object(bucket, "verdicts/a.json").content_type == "application/json"
    assert _read(sdk, bucket, "verdicts/a.json") == verdict
    tags = sdk.get_object_tags(bucket, "photos/a b+c.jpg")
    assert dict(tags or {}) == {"civicqc-verdict": "accepted", "kind": "a+b=c /d"}


def _read(sdk: Minio, bucket: str, key: str) -> bytes:
    response = sdk.get_object(bucket, key)
    try:
        return response.read()
    finally:
        response.close()
        response.release_conn()


@pytest.mark.integration
def test_a_put_signed_with_the_callers_digest_keeps_its_metadata_and_tags(
    s3_service: S3Service, make_bucket: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The digest the caller took is what the request carries (and is signed with: the store
    verified the signature over that header), and the object, its metadata and its tags read
    back through the SDK byte for byte."""
    bucket = make_bucket()
    photo = b"\xff\xd8" + bytes(range(256)) * 300
    digest = hashlib.sha256(photo).hexdigest()
    requests = _requests(s3_service.settings())
    sent = recorded_requests(monkeypatch)
    try:
        requests.put(
            bucket,
            "photos/p.jpg",
            photo,
            "image/jpeg",
            {"civicqc-verdict": "pending", "a b": "c+d"},
            sha256=digest,
            metadata={DIGEST_METADATA: digest},
        )
    finally:
        requests.close()
    monkeypatch.undo()
    [put] = sent
    assert put.line == f"PUT /{bucket}/photos/p.jpg"
    assert put.headers["x-amz-content-sha256"] == digest
    assert put.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=")
    assert "x-amz-content-sha256" in put.headers["authorization"]
    sdk = s3_service.client()
    stat = sdk.stat_object(bucket, "photos/p.jpg")
    assert (stat.size, stat.content_type) == (len(photo), "image/jpeg")
    assert (stat.metadata or {}).get(f"x-amz-meta-{DIGEST_METADATA}") == digest
    assert _read(sdk, bucket, "photos/p.jpg") == photo
    tags = sdk.get_object_tags(bucket, "photos/p.jpg")
    assert dict(tags or {}) == {"civicqc-verdict": "pending", "a b": "c+d"}


def test_the_payload_digest_is_a_digest_taken_else_the_bodys_and_unsigned_over_https() -> None:
    """What ``x-amz-content-sha256`` says, as the SDK would: no store needed to build it."""
    body = b"\xff\xd8photo"
    supplied = "ab" * 32
    plain = CommonSettings(
        s3_endpoint="127.0.0.1:9", s3_access_key=SecretStr("k"), s3_secret_key=SecretStr("s")
    )
    requests = _requests(plain)
    _, with_digest = requests.signed("PUT", "b", "k.jpg", {}, body, {}, supplied)
    _, hashed = requests.signed("PUT", "b", "k.jpg", {}, body, {}, None)
    _, get = requests.signed("GET", "b", "k.jpg", {}, None, {}, None)
    secure = _requests(plain.model_copy(update={"s3_secure": True, "s3_endpoint": "s3:443"}))
    _, over_tls = secure.signed("PUT", "b", "k.jpg", {}, body, {}, None)
    _, over_tls_digested = secure.signed("PUT", "b", "k.jpg", {}, body, {}, supplied)
    anonymous = _requests(CommonSettings(s3_endpoint="127.0.0.1:9"))
    _, unsigned = anonymous.signed("PUT", "b", "k.jpg", {}, body, {}, supplied)
    assert with_digest["x-amz-content-sha256"] == supplied
    assert hashed["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest()
    assert get["x-amz-content-sha256"] == hashlib.sha256(b"").hexdigest()
    assert "Content-MD5" not in with_digest and "Content-Length" not in get
    assert (over_tls["x-amz-content-sha256"], over_tls["Host"]) == ("UNSIGNED-PAYLOAD", "s3")
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    assert over_tls["Content-MD5"] == unsigned["Content-MD5"] == md5
    # A digest already taken signs the body over TLS too, sparing the MD5 pass.
    assert over_tls_digested["x-amz-content-sha256"] == supplied
    assert "Content-MD5" not in over_tls_digested
    assert "Authorization" not in unsigned and "x-amz-content-sha256" not in unsigned
    scope = with_digest["Authorization"].split("Credential=k/")[1].split(",")[0]
    assert scope == f"{with_digest['x-amz-date'][:8]}/us-east-1/s3/aws4_request"


@pytest.mark.integration
async def test_awkward_keys_round_trip_the_same_as_through_the_sdk(
    s3_service: S3Service, make_bucket: Callable[[], str]
) -> None:
    """Written by us and read by the SDK, written by the SDK and read by us: same keys."""
    bucket = make_bucket()
    client, store = _store(s3_service.settings(), bucket, workers=1)
    sdk = client.sdk
    try:
        for index, key in enumerate(_AWKWARD_KEYS):
            ours, theirs = f"ours/{key}", f"sdk/{key}"
            await store.put(ours, b"ours %d" % index, "image/jpeg", {"k": key[-5:]})
            data = b"sdk %d" % index
            sdk.put_object(bucket, theirs, io.BytesIO(data), len(data))
            assert _read(sdk, bucket, ours) == b"ours %d" % index
            assert await store.fetch(theirs) == data
            await store.tag(theirs, {"civicqc-verdict": "accepted"})
            assert dict(sdk.get_object_tags(bucket, theirs) or {}) == {
                "civicqc-verdict": "accepted"
            }
    finally:
        store.close()
    listed = {obj.object_name for obj in sdk.list_objects(bucket, recursive=True)}
    assert listed == {f"{side}/{key}" for side in ("ours", "sdk") for key in _AWKWARD_KEYS}


@pytest.mark.integration
async def test_a_body_left_unread_does_not_meet_the_next_request(
    s3_service: S3Service, make_bucket: Callable[[], str]
) -> None:
    """A GET refused from its length leaves its body on the wire: that connection is closed,
    and the thread's next request reads its own answer on a new one."""
    _client, store = _store(s3_service.settings(), make_bucket(), workers=1)
    big, small = b"\xff" * (256 * 1024), b"\xff\xd8small"
    try:
        await store.put("photos/big.jpg", big, "image/jpeg")
        await store.put("photos/small.jpg", small, "image/jpeg")
        with pytest.raises(ObjectTooLargeError):
            await store.fetch_vouched("photos/big.jpg", max_bytes=1024)
        assert await store.fetch_vouched("photos/small.jpg", max_bytes=1024) == (small, None)
        await store.tag("photos/small.jpg", {"civicqc-verdict": "accepted"})
        assert await store.fetch("photos/big.jpg") == big
        assert await store.fetch("photos/small.jpg") == small
    finally:
        store.close()


@pytest.mark.integration
async def test_requests_with_a_wrong_secret_are_unavailable_and_name_the_code_not_the_secret(
    s3_service: S3Service, make_bucket: Callable[[], str]
) -> None:
    bucket = make_bucket()
    s3_service.client().put_object(bucket, "photos/a.jpg", io.BytesIO(b"\xff\xd8"), 2)
    wrong = s3_service.settings(s3_secret_key=SecretStr("not-the-secret"))
    _client, store = _store(wrong, bucket, workers=1)
    refusals: list[StorageUnavailableError] = []
    try:
        for call in (
            store.put("verdicts/a.json", b"{}", "application/json"),
            store.put_whole("photos/b.jpg", [b"\xff\xd8", b"photo"], "image/jpeg"),
            store.fetch("photos/a.jpg"),
            store.tag("photos/a.jpg", {"civicqc-verdict": "accepted"}),
        ):
            with pytest.raises(StorageUnavailableError) as refused:
                await call
            refusals.append(refused.value)
    finally:
        store.close()
    for refusal in refusals:
        message = str(refusal)
        assert message.startswith("object storage failed: ")
        assert "SignatureDoesNotMatch" in message or "AccessDenied" in message
        assert "not-the-secret" not in message and s3_service.secret_key not in message
    assert len(refusals) == 4


def test_an_empty_region_is_the_default_one() -> None:
    """``S3_REGION=`` signs as unset does: us-east-1, what MinIO and SeaweedFS answer."""
    assert CommonSettings(s3_region="").s3_region == "us-east-1"
    assert CommonSettings().s3_region == "us-east-1"
    assert CommonSettings(s3_region="eu-central-1").s3_region == "eu-central-1"


class _Forgetful(BaseHTTPRequestHandler):
    """Answers each PUT 200 on a kept-alive HTTP/1.1 connection, then closes that connection
    without saying so (a store's idle timeout), or, when ``silent``, closes it unanswered."""

    protocol_version = "HTTP/1.1"
    server: _ForgetfulServer

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append(self.path)
        if self.server.errors_left:  # a long error answer, and the connection kept alive
            self.server.errors_left -= 1
            answer = b"<Error><Code>SlowDown</Code><Message>later</Message></Error>"
            answer += b" " * (1 << 20)
            self.send_response(503)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client stops reading, then hangs up
                self.wfile.write(answer)
            return
        if not self.server.silent:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest shows what failed."""


class _ForgetfulServer(ThreadingHTTPServer):
    daemon_threads = True
    silent = False
    errors_left = 0

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Forgetful)
        self.connections = 0
        self.requests: list[str] = []


@pytest.fixture
def forgetful() -> Iterator[_ForgetfulServer]:
    yield from serving(_ForgetfulServer())


def _writes(server: _ForgetfulServer) -> SignedRequests:
    host, port = server.server_address[:2]
    settings = CommonSettings(s3_endpoint=f"{host!s}:{port}")
    return SignedRequests.of(settings, connect_timeout_s=2.0, read_timeout_s=5.0)


def test_a_connection_the_store_closed_while_idle_is_opened_again(
    forgetful: _ForgetfulServer,
) -> None:
    writes = _writes(forgetful)
    try:
        writes.put("civicqc-images", "verdicts/a.json", b"{}", "application/json", None)
        writes.tag("civicqc-images", "photos/a.jpg", Tags.new_object_tags())
        writes.put("civicqc-images", "verdicts/b.json", b"{}", "application/json", None)
    finally:
        writes.close()
    assert forgetful.requests == [
        "/civicqc-images/verdicts/a.json",
        "/civicqc-images/photos/a.jpg?tagging=",
        "/civicqc-images/verdicts/b.json",
    ]
    assert forgetful.connections == 3


def test_a_new_connection_dropped_unanswered_is_not_sent_again(
    forgetful: _ForgetfulServer,
) -> None:
    forgetful.silent = True
    writes = _writes(forgetful)
    try:
        with pytest.raises(ConnectionError):
            writes.put("civicqc-images", "verdicts/a.json", b"{}", "application/json", None)
    finally:
        writes.close()
    assert forgetful.requests == ["/civicqc-images/verdicts/a.json"]
    assert forgetful.connections == 1


def test_an_error_answer_is_read_to_a_bound_and_its_connection_not_reused(
    forgetful: _ForgetfulServer,
) -> None:
    forgetful.errors_left = 1  # a 1 MiB answer: far past what an S3 error needs
    writes = _writes(forgetful)
    try:
        with pytest.raises(S3RequestError) as refused:
            writes.put("civicqc-images", "verdicts/a.json", b"{}", "application/json", None)
        writes.put("civicqc-images", "verdicts/b.json", b"{}", "application/json", None)
    finally:
        writes.close()
    assert (refused.value.status, refused.value.code) == (503, "SlowDown")
    assert forgetful.requests == [
        "/civicqc-images/verdicts/a.json",
        "/civicqc-images/verdicts/b.json",
    ]
    # The rest of the long answer was never read, so its connection was not used again.
    assert forgetful.connections == 2
