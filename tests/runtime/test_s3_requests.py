"""The store's small writes sent with ``http.client``: what the SDK would have stored, and a
kept-alive connection the store closed is opened again once, never more."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from minio.commonconfig import Tags
from pydantic import SecretStr

from runtime.object_store import (
    ObjectMissingError,
    ObjectStore,
    ObjectTooLargeError,
    StorageUnavailableError,
    minio_client,
)
from runtime.s3_requests import S3RequestError, SignedRequests
from runtime.settings import CommonSettings
from tests.builders.loopback import serving
from tests.fixtures.services import S3Service


def _real(s3: S3Service) -> CommonSettings:
    return CommonSettings.model_validate(
        {
            "s3_endpoint": s3.endpoint,
            "s3_access_key": SecretStr(s3.access_key),
            "s3_secret_key": SecretStr(s3.secret_key),
            "s3_secure": s3.secure,
        }
    )


@pytest.mark.integration
async def test_tags_and_bodies_land_as_the_sdk_would_have_stored_them(
    s3_service: S3Service, make_bucket: Callable[[], str]
) -> None:
    """Signed by the SDK's own builders (a private API: a new SDK that changes them fails
    here), read back through the SDK."""
    client = minio_client(
        _real(s3_service), connect_timeout_s=2.0, read_timeout_s=15.0, pool_size=2
    )
    bucket = make_bucket()
    store = ObjectStore(client, bucket, max_workers=2)
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
    assert missing.value.args == ("photos/nothing.jpg",)
    assert client.stat_object(bucket, "verdicts/a.json").content_type == "application/json"
    tags = client.get_object_tags(bucket, "photos/a b+c.jpg")
    assert dict(tags or {}) == {"civicqc-verdict": "accepted", "kind": "a+b=c /d"}


@pytest.mark.integration
async def test_a_body_left_unread_does_not_meet_the_next_request(
    s3_service: S3Service, make_bucket: Callable[[], str]
) -> None:
    """A GET refused from its length leaves its body on the wire: that connection is closed,
    and the thread's next request reads its own answer on a new one."""
    client = minio_client(
        _real(s3_service), connect_timeout_s=2.0, read_timeout_s=15.0, pool_size=1
    )
    store = ObjectStore(client, make_bucket(), max_workers=1)
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
async def test_a_refused_write_is_unavailable_and_names_the_code_not_the_secret(
    s3_service: S3Service, make_bucket: Callable[[], str]
) -> None:
    wrong = _real(s3_service).model_copy(update={"s3_secret_key": SecretStr("not-the-secret")})
    client = minio_client(wrong, connect_timeout_s=2.0, read_timeout_s=15.0, pool_size=1)
    store = ObjectStore(client, make_bucket(), max_workers=1)
    try:
        with pytest.raises(StorageUnavailableError) as refused:
            await store.put("verdicts/a.json", b"{}", "application/json")
    finally:
        store.close()
    assert "SignatureDoesNotMatch" in str(refused.value) or "AccessDenied" in str(refused.value)
    assert "not-the-secret" not in str(refused.value)


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
    settings = CommonSettings(s3_endpoint=f"{host!s}:{port}", s3_region="us-east-1")
    client = minio_client(settings, connect_timeout_s=2.0, read_timeout_s=5.0, pool_size=1)
    return SignedRequests(client, connect_timeout_s=2.0, read_timeout_s=5.0)


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
