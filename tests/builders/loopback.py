"""A loopback HTTP server running on a thread for the length of a test."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import TypeVar

Server = TypeVar("Server", bound=ThreadingHTTPServer)


def serving(server: Server) -> Iterator[Server]:
    """Serve ``server`` until the generator is closed (a pytest fixture's body), then stop it."""
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
