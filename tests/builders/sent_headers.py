"""The headers each request carried as ``http.client`` sent it, to read what was signed.

The client still talks to the real server: this only records what it writes.
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass, field

import pytest


@dataclass
class SentRequest:
    """One request as sent: ``METHOD target`` and its headers (names in lower case)."""

    line: str
    headers: dict[str, str] = field(default_factory=dict)


def recorded_requests(monkeypatch: pytest.MonkeyPatch) -> list[SentRequest]:
    """One :class:`SentRequest` per request sent from now on, in order (the list fills up)."""
    sent: list[SentRequest] = []
    current: dict[int, SentRequest] = {}
    real_putrequest = http.client.HTTPConnection.putrequest
    real_putheader = http.client.HTTPConnection.putheader

    def putrequest(
        self: http.client.HTTPConnection, method: str, url: str, *args: bool, **kwargs: bool
    ) -> None:
        current[id(self)] = request = SentRequest(f"{method} {url}")
        sent.append(request)
        real_putrequest(self, method, url, *args, **kwargs)

    def putheader(self: http.client.HTTPConnection, header: str, *values: str | bytes) -> None:
        shown = ",".join(v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in values)
        current[id(self)].headers[header.lower()] = shown
        real_putheader(self, header, *values)

    monkeypatch.setattr(http.client.HTTPConnection, "putrequest", putrequest)
    monkeypatch.setattr(http.client.HTTPConnection, "putheader", putheader)
    return sent
