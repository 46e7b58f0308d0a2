"""An app served by a real uvicorn on a loopback port, in a thread of the test.

For what ``TestClient`` cannot show: bodies that arrive slowly over a socket, several
clients at once, and uvicorn's own access log.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from civicqc.stack.context import free_port


@contextlib.contextmanager
def served(app: FastAPI, timeout_s: float = 20.0) -> Iterator[str]:
    """``http://127.0.0.1:{port}`` while the server runs; stopped (and joined) on exit."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"uvicorn did not start on port {port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout_s)


class Trickle:
    """One raw HTTP upload over a socket, sent a few bytes at a time, as a slow client does.

    ``start`` sends the request head; ``send`` more body bytes unless the server has
    answered already; ``answer`` waits (bounded) for the status line and JSON body.
    """

    def __init__(self, url: str, headers: dict[str, str], length: int) -> None:
        host, port = url.removeprefix("http://").split(":")
        self._sock = socket.create_connection((host, int(port)), timeout=10)
        head = ["POST /v1/images HTTP/1.1", f"Host: {host}", f"Content-Length: {length}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        self._sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        self._received = b""

    def answered(self) -> bool:
        readable, _, _ = select.select([self._sock], [], [], 0)
        return bool(readable)

    def send(self, data: bytes) -> bool:
        """False once the server has answered (the rest is then never read)."""
        if self.answered():
            return False
        self._sock.sendall(data)
        return True

    def answer(self, timeout_s: float = 10.0) -> tuple[int, dict[str, object]]:
        self._sock.settimeout(timeout_s)
        while b"\r\n\r\n" not in self._received or not self._received.rstrip().endswith(b"}"):
            chunk = self._sock.recv(65536)
            if not chunk:
                break
            self._received += chunk
        status_line, _, rest = self._received.partition(b"\r\n")
        body = rest.partition(b"\r\n\r\n")[2]
        return int(status_line.split()[1]), json.loads(body)

    def close(self) -> None:
        self._sock.close()
