"""An app served by a real uvicorn on a loopback port, in a thread of the test.

For what ``TestClient`` cannot show: bodies that arrive slowly over a socket, several
clients at once, and uvicorn's own access log.
"""

from __future__ import annotations

import contextlib
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
