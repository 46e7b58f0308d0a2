"""How much of each GET answer a store client read, to tell a refused object from one read whole.

Each answer to a GET of an object (a path without a query: not the SDK's bucket-location
lookup) that ``http.client`` parses from now on gets a :class:`BodyRead` that counts the
body bytes its reads returned. The client still talks to the real server.
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass

import pytest


@dataclass
class BodyRead:
    """The body bytes read so far from one GET answer."""

    bytes: int = 0


def recorded_gets(monkeypatch: pytest.MonkeyPatch) -> list[BodyRead]:
    """One :class:`BodyRead` per GET answered from now on, in order (the list fills up)."""
    answered: list[BodyRead] = []
    real_putrequest = http.client.HTTPConnection.putrequest
    real_getresponse = http.client.HTTPConnection.getresponse
    targets: dict[int, str] = {}

    def putrequest(
        self: http.client.HTTPConnection, method: str, url: str, *args: bool, **kwargs: bool
    ) -> None:
        targets[id(self)] = f"{method} {url}"
        real_putrequest(self, method, url, *args, **kwargs)

    def getresponse(self: http.client.HTTPConnection) -> http.client.HTTPResponse:
        response = real_getresponse(self)
        target = targets.pop(id(self), "")
        if target.startswith("GET ") and "?" not in target:
            count = BodyRead()
            answered.append(count)
            real_read = response.read

            def read(amt: int | None = None) -> bytes:
                data = real_read(amt)
                count.bytes += len(data)
                return data

            response.read = read  # type: ignore[method-assign]
        return response

    monkeypatch.setattr(http.client.HTTPConnection, "putrequest", putrequest)
    monkeypatch.setattr(http.client.HTTPConnection, "getresponse", getresponse)
    return answered
