"""The HTTP responses a real store client got for its GETs, to see how much of each was read.

``response.tell()`` counts the body bytes urllib3 pulled off the connection, so a test can
tell a refused object from one read whole. The client still talks to the real server.
"""

from __future__ import annotations

from typing import Any

import pytest
from minio import Minio
from urllib3 import BaseHTTPResponse


def recorded_gets(client: Minio, monkeypatch: pytest.MonkeyPatch) -> list[BaseHTTPResponse]:
    """The responses of ``client.get_object`` from now on, in order (the list fills up)."""
    answered: list[BaseHTTPResponse] = []
    real_get = client.get_object

    def get_object(*args: Any, **kwargs: Any) -> BaseHTTPResponse:
        answered.append(real_get(*args, **kwargs))
        return answered[-1]

    monkeypatch.setattr(client, "get_object", get_object)
    return answered
