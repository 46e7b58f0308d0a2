"""The local stack's ports: one port per name, and an S3 probe that a wrong server cannot crash."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from civicqc.stack import context, object_store
from civicqc.stack.context import LOOPBACK, StackContext, StackLayout


def test_a_port_the_kernel_hands_out_twice_goes_to_one_name_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The kernel's answers for port 0 are replayed: the second probe repeats the first.
    answers = iter([41001, 41001, 41001, 41002, 41003])
    monkeypatch.setattr(context, "free_port", lambda host=LOOPBACK: next(answers))
    ctx = StackContext(StackLayout(tmp_path), ports={})
    assert [ctx.port("s3"), ctx.port("s3_filer"), ctx.port("s3_master")] == [41001, 41002, 41003]
    assert ctx.port("s3_filer") == 41002


def test_a_configured_port_is_not_handed_to_a_picked_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter([9092, 41005])
    monkeypatch.setattr(context, "free_port", lambda host=LOOPBACK: next(answers))
    ctx = StackContext(StackLayout(tmp_path), ports={"kafka": 9092})
    assert ctx.port("kafka_controller") == 41005


class _HtmlPage(BaseHTTPRequestHandler):
    """What SeaweedFS's filer answers on its own port: an HTML directory page."""

    def do_GET(self) -> None:
        body = b"<html><head><title>listing</title></head><body><br></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def html_server() -> Iterator[str]:
    server = ThreadingHTTPServer((LOOPBACK, 0), _HtmlPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{LOOPBACK}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_html_page_on_the_s3_port_is_not_ready_rather_than_a_crash(html_server: str) -> None:
    creds = object_store.S3Credentials(access_key="k" * 20, secret_key="s" * 40)
    assert object_store.s3_ready(html_server, creds) is False


def test_nothing_listening_on_the_s3_port_is_not_ready() -> None:
    port = context.free_port()
    creds = object_store.S3Credentials(access_key="k" * 20, secret_key="s" * 40)
    assert object_store.s3_ready(f"{LOOPBACK}:{port}", creds) is False
