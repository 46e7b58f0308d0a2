"""A bounded fetch against a server that lies about the body: the bound holds anyway.

The real store always sends a true ``Content-Length`` (tests/runtime/test_object_store.py
checks the refusal from it); this loopback HTTP server sends none, or a short one, and
then far more body than the bound, to show the client never reads more than one byte
past it whatever the answer says.
"""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from runtime.object_store import ObjectStore, ObjectTooLargeError, store_client
from runtime.settings import CommonSettings
from tests.builders.get_responses import BodyRead, recorded_gets
from tests.builders.loopback import serving

LIMIT = 64 * 1024
#: What the server offers: far past the bound, bounded itself so a broken client ends.
OFFERED = 64 * LIMIT
_CHUNK = b"\xff" * 4096


class _Liar(BaseHTTPRequestHandler):
    """Answers every GET with ``OFFERED`` bytes: chunked, or under a ``Content-Length`` that
    announces ``self.server.announced`` of them."""

    protocol_version = "HTTP/1.1"
    server: _LiarServer

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        announced = self.server.announced
        if announced is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(announced))
        self.end_headers()
        try:
            for _ in range(OFFERED // len(_CHUNK)):
                if announced is None:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(_CHUNK), _CHUNK))
                else:
                    self.wfile.write(_CHUNK)
        except OSError:  # the client hung up: what this test wants
            pass
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest shows what failed."""


class _LiarServer(ThreadingHTTPServer):
    daemon_threads = True
    announced: int | None = None


@pytest.fixture
def liar() -> Iterator[_LiarServer]:
    yield from serving(_LiarServer(("127.0.0.1", 0), _Liar))


def _store(
    server: _LiarServer, monkeypatch: pytest.MonkeyPatch
) -> tuple[ObjectStore, list[BodyRead]]:
    """A store client of ``server`` (anonymous, region given: one GET per fetch), and the
    responses it got."""
    host, port = server.server_address[:2]
    settings = CommonSettings(s3_endpoint=f"{host!s}:{port}", s3_region="us-east-1")
    client = store_client(settings, connect_timeout_s=2.0, read_timeout_s=5.0, pool_size=1)
    return ObjectStore(client, "civicqc-images", max_workers=1), recorded_gets(monkeypatch)


async def test_a_body_without_a_length_is_cut_one_byte_past_the_bound(
    liar: _LiarServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, answered = _store(liar, monkeypatch)
    try:
        with pytest.raises(ObjectTooLargeError) as refused:
            await store.fetch_vouched("photos/a.jpg", max_bytes=LIMIT)
    finally:
        store.close()
    assert (refused.value.size, refused.value.max_bytes) == (None, LIMIT)
    assert [read.bytes for read in answered] == [LIMIT + 1]


async def test_a_body_longer_than_its_length_is_read_to_its_length_only(
    liar: _LiarServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    liar.announced = LIMIT // 2
    store, answered = _store(liar, monkeypatch)
    try:
        data, vouched = await store.fetch_vouched("photos/a.jpg", max_bytes=LIMIT)
    finally:
        store.close()
    assert (data, vouched) == (_CHUNK * (LIMIT // 2 // len(_CHUNK)), None)
    assert [read.bytes for read in answered] == [LIMIT // 2]
