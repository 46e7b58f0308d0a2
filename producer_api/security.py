"""Who may call the API, how often, and the headers every answer carries.

- :class:`KeyRing` holds the API keys of ``API_KEYS_FILE`` and re-reads the file when
  it changes (checked at most every ``API_KEYS_RELOAD_S``), so ``civicqc keys add``
  and ``revoke`` take effect without a restart. Keys are looked up by their id part
  and compared by hash in constant time (:mod:`runtime.apikeys`).
- :class:`RateLimiter` is a token bucket per key, **per replica**: with N replicas
  behind a load balancer a key may get up to N times its rate. That is the intended
  trade-off (no shared store on the request path); size ``rate_per_s`` for it.
- :class:`SecurityHeadersMiddleware` adds nosniff, frame and referrer policies and a
  Content-Security-Policy (a strict one for JSON, the page's one for HTML).
- ``/metrics`` is not here at all: it has a port of its own
  (:func:`producer_api.main.lifespan`), so no client address, header or root path
  on the public port can reach it.

The route-level checks (401, 403, 429) are dependencies in :mod:`producer_api.deps`.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from producer_api.settings import Settings
from runtime.apikeys import (
    ALL_TENANTS,
    ApiKeyRecord,
    KeyRole,
    KeysFileError,
    key_id,
    matches,
    read_keys,
)

logger = logging.getLogger(__name__)

#: Request headers the upload page may send cross-origin.
CORS_HEADERS = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "X-API-Key",
    "X-Tenant",
    "X-Reporter-Id",
    "X-Category",
    "X-Latitude",
    "X-Longitude",
    "X-Accuracy-M",
)
CORS_EXPOSED = ("Location", "Retry-After", "Idempotent-Replayed")
#: For JSON answers: nothing may be loaded or framed on their behalf.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
#: On every answer, HTML or JSON.
BROWSER_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
#: What a JSON answer carries, for the one answer the middleware never sees (500s).
JSON_SECURITY_HEADERS = {**BROWSER_HEADERS, "Content-Security-Policy": API_CSP}
#: Interactive docs load Swagger UI from a CDN; they keep their own defaults.
_DOCS_PATHS = ("/docs", "/redoc")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, its tenant scope and role."""

    key_id: str
    tenant: str
    role: KeyRole
    rate_per_s: float | None = None
    burst: int | None = None

    def may_act_for(self, tenant: str) -> bool:
        if self.tenant == ALL_TENANTS:  # the keys file refuses '*' for other roles too
            return self.role is KeyRole.OPERATOR
        return self.tenant == tenant

    @classmethod
    def of(cls, record: ApiKeyRecord) -> Principal:
        return cls(record.id, record.tenant, record.role, record.rate_per_s, record.burst)


#: Who calls when ``AUTH_ENABLED=false`` (local development only).
ANONYMOUS = Principal("anonymous", ALL_TENANTS, KeyRole.OPERATOR)


class KeyRing:
    """The keys of one file, re-read when its mtime or size changes."""

    def __init__(self, path: Path | None, reload_interval_s: float = 1.0) -> None:
        self._path = path
        self._interval_s = reload_interval_s
        self._by_id: dict[str, ApiKeyRecord] = {}
        self._stamp: tuple[int, int] | None = None
        self._checked_at = -math.inf
        self._lock = threading.Lock()
        self._refresh(force=True)

    def __len__(self) -> int:
        return len(self._by_id)

    def lookup(self, key: str) -> ApiKeyRecord | None:
        """The record of ``key`` if it is well formed, known and not revoked."""
        self._refresh()
        ident = key_id(key)
        if ident is None:
            return None
        record = self._by_id.get(ident)
        if record is None or not matches(record, key):
            return None
        return record

    def _refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if self._path is None or (not force and now - self._checked_at < self._interval_s):
            return
        with self._lock:
            self._checked_at = now
            try:
                stat = self._path.stat()
                stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
            except FileNotFoundError:
                stamp = None
            if stamp == self._stamp and not force:
                return
            try:
                keys = read_keys(self._path)
            except KeysFileError as exc:
                # Keep serving the last good keys: a half-edited file must not lock out a city.
                logger.error("keys file not reloaded: %s", exc)
                return
            self._by_id = {record.id: record for record in keys.keys}
            self._stamp = stamp
            logger.info("API keys loaded", extra={"keys": len(self._by_id)})


class RateLimiter:
    """Token buckets by key id, in this process only; least recently used ones are dropped."""

    def __init__(self, max_buckets: int = 10_000) -> None:
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._max = max_buckets

    def wait_s(self, key: str, rate_per_s: float, burst: int) -> float:
        """Take one token: 0.0 when allowed, else the seconds until one is free."""
        now = time.monotonic()
        tokens, last = self._buckets.pop(key, (float(burst), now))
        tokens = min(float(burst), tokens + (now - last) * rate_per_s)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / rate_per_s
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        return wait


class KeyQueryRedaction(logging.Filter):
    """Blanks ``key=`` query values in access log lines (old ``/?key=`` page links).

    The page now takes its key from the URL fragment, which browsers never send; links
    printed before that still carry it in the query, and access logs keep what they see.
    """

    _PATTERN = re.compile(r"([?&]key=)[^&#\s]*", re.IGNORECASE)

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self._PATTERN.sub(r"\1[redacted]", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def redact_access_log() -> None:
    """Install :class:`KeyQueryRedaction` on uvicorn's access logger, once."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(existing, KeyQueryRedaction) for existing in access.filters):
        access.addFilter(KeyQueryRedaction())


class SecurityHeadersMiddleware:
    """Adds the standard response headers unless a route set its own."""

    def __init__(self, app: ASGIApp, page_csp: str) -> None:
        self.app = app
        self._page_csp = page_csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = str(scope.get("path", "")).startswith(_DOCS_PATHS)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in BROWSER_HEADERS.items():
                    headers.setdefault(name, value)
                if not docs:
                    html = headers.get("content-type", "").startswith("text/html")
                    headers.setdefault(
                        "Content-Security-Policy", self._page_csp if html else API_CSP
                    )
            await send(message)

        await self.app(scope, receive, with_headers)


def install_security(app: FastAPI, settings: Settings) -> None:
    """Key ring, rate limiter and middlewares; call before the metrics middleware is added."""
    app.state.keyring = KeyRing(settings.api_keys_file, settings.api_keys_reload_s)
    app.state.rate_limiter = RateLimiter()
    if not settings.auth_enabled:
        logger.warning("AUTH_ENABLED=false: the API accepts every request (development only)")
    elif settings.api_keys_file is None:
        logger.warning("API_KEYS_FILE is not set: every authenticated request gets 401")
    app.add_middleware(SecurityHeadersMiddleware, page_csp=settings.content_security_policy)
    if settings.cors_allow_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allow_origins,
            allow_methods=["GET", "POST"],
            allow_headers=list(CORS_HEADERS),
            expose_headers=list(CORS_EXPOSED),
            max_age=600,
        )
