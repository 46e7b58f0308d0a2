"""The store requests made per photo (its GET, its tags, a PUT of a body held in memory),
built, signed and sent without the SDK's private members.

Per photo the consumer makes three requests: the photo's GET, its tags, and its
verdict's PUT; the API one, the photo's PUT. Through ``minio`` + ``urllib3`` the two
small ones cost about twice the client CPU of the same signed request sent with
``http.client`` (0.46-0.51 against 0.22-0.23 ms per tag request, in one process on the
development machine), and a 2.7 MB GET 1.21 against 0.90 ms: the SDK's request
wrappers, the pool manager's URL parsing and urllib3's header and response layers are
most of a request that carries a few hundred bytes. ``python -m bench.drain`` counts
that CPU against the consumer.

What is sent is what the SDK sends, built here from public pieces only, so that a new
minio release cannot silently change it: the path-style URL (``/bucket/key``, the key
quoted as the SDK quotes it), the headers (``Host``, ``Content-Length``,
``x-amz-date``, ``x-amz-content-sha256``: the body's SHA-256, or ``UNSIGNED-PAYLOAD``
with a ``Content-MD5`` over HTTPS, as the SDK does; one the caller took signs instead,
over HTTPS too), and the SDK's public SigV4 signer (:func:`minio.signer.sign_v4_s3`). The region is
``S3_REGION`` (``us-east-1`` unless set: what MinIO and SeaweedFS answer); nothing
asks the store for it. Empty keys mean anonymous requests, unsigned, with a
``Content-MD5``, as the SDK sends them.

Each thread keeps one connection to the store (a store thread runs one request at a
time); a kept-alive connection the store closed while idle is opened again once
(every request sent here is idempotent), any other failure is the caller's. A GET's
body is the caller's to read (its bound is :mod:`runtime.object_store`'s); one left
unread closes its connection.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import platform
import re
import socket
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import SplitResult, quote, urlsplit

import minio
from minio.commonconfig import Tags
from minio.credentials.providers import Provider, StaticProvider
from minio.signer import sign_v4_s3
from minio.tagging import Tagging
from minio.xml import marshal

from runtime.settings import CommonSettings
from runtime.tls import client_context

#: S3 error codes that mean "no such key" (SeaweedFS answers NoSuchObject to some requests).
MISSING_CODES = frozenset({"NoSuchKey", "NoSuchObject"})
#: The SDK's own ``User-Agent``, so the store's logs read the same whichever client sent.
USER_AGENT = (
    f"MinIO ({platform.system()}; {platform.machine()}) {minio.__title__}/{minio.__version__}"
)
#: What a kept-alive connection raises when the store had closed it: sent again, once.
_CLOSED_WHILE_IDLE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
#: The two elements of an S3 error answer it is read for (bounded: a code is short).
_CODE = re.compile(rb"<Code>([^<]{1,100})</Code>")
_MESSAGE = re.compile(rb"<Message>([^<]{1,500})</Message>")
#: Most of an error answer read: S3's are a few hundred bytes, and a store is not trusted
#: to keep them short.
_ERROR_BYTES = 64 * 1024
_UNSIGNED = "UNSIGNED-PAYLOAD"


class S3RequestError(Exception):
    """The store answered a request with an error status; ``code`` is its S3 error code."""

    def __init__(self, key: str, status: int, code: str | None, message: str | None) -> None:
        super().__init__(f"{code or f'HTTP {status}'} ({message or 'no message'})")
        self.key = key
        self.status = status
        self.code = code

    @property
    def missing(self) -> bool:
        return self.code in MISSING_CODES


class SignedRequests:
    """GET an object, tag one, or PUT a body held in memory: path-style, SigV4-signed."""

    def __init__(
        self,
        endpoint: str,
        *,
        secure: bool,
        region: str,
        credentials: Provider | None,
        connect_timeout_s: float,
        read_timeout_s: float,
        cafile: Path | None = None,
    ) -> None:
        """``endpoint``: ``host:port``, as ``S3_ENDPOINT``; ``credentials``: ``None`` for
        anonymous requests; ``cafile``: the CA of the store's certificate (over HTTPS;
        ``None``: the system's)."""
        scheme = "https" if secure else "http"
        url = urlsplit(f"{scheme}://{endpoint}")
        if url.path not in ("", "/") or url.query or url.fragment or url.username:
            raise ValueError(f"S3_ENDPOINT must be host[:port], not {endpoint!r}")
        self._scheme = scheme
        self._tls = client_context(cafile, settings="S3_SSL_CAFILE") if secure else None
        self._hostname, self._port = url.hostname or "", url.port
        # The Host the SDK signs: the port left out where it is the scheme's default.
        default = 443 if secure else 80
        self._host = url.netloc.removesuffix(f":{default}")
        self._region = region
        self._credentials = credentials
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s
        self._local = threading.local()
        self._opened: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    @classmethod
    def of(
        cls, settings: CommonSettings, *, connect_timeout_s: float, read_timeout_s: float
    ) -> SignedRequests:
        """Requests to ``S3_ENDPOINT`` in ``S3_REGION``; empty ``S3_ACCESS_KEY`` means anonymous."""
        access_key = settings.s3_access_key.get_secret_value()
        secret_key = settings.s3_secret_key.get_secret_value()
        if access_key and not secret_key:
            raise ValueError("S3_SECRET_KEY must be set with S3_ACCESS_KEY")
        return cls(
            settings.s3_endpoint,
            secure=settings.s3_secure,
            region=settings.s3_region,
            credentials=StaticProvider(access_key, secret_key) if access_key else None,
            connect_timeout_s=connect_timeout_s,
            read_timeout_s=read_timeout_s,
            cafile=settings.s3_ssl_cafile,
        )

    def put(
        self,
        bucket: str,
        key: str,
        body: bytes,
        content_type: str,
        tags: Mapping[str, str] | None = None,
        *,
        sha256: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """PUT ``body`` at ``key`` with ``tags`` and user ``metadata`` (``x-amz-meta-*``) in
        the same request, as ``put_object`` sends them.

        ``sha256``: the body's hex SHA-256 if the caller already took it. The request is
        then signed with it instead of hashing the body again, over HTTPS too, where the
        SDK would send ``UNSIGNED-PAYLOAD`` and an MD5 of the body: the store checks the
        digest against the bytes it receives, so the body stays bound to the signature
        at no cost.
        """
        headers = {"Content-Type": content_type}
        if tags:
            headers["x-amz-tagging"] = "&".join(
                f"{_encoded(name)}={_encoded(value)}" for name, value in tags.items()
            )
        for name, value in (metadata or {}).items():
            headers[f"x-amz-meta-{name}"] = value
        self._send(bucket, key, {}, body, headers, sha256)

    def tag(self, bucket: str, key: str, tags: Tags) -> None:
        """Replace the tags of ``key`` (as ``set_object_tags``)."""
        body = marshal(Tagging(tags))
        self._send(bucket, key, {"tagging": ""}, body, {"Content-MD5": _md5(body)}, None)

    def close(self) -> None:
        """Close every connection opened so far (the store's threads are done with them)."""
        with self._lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()

    @contextlib.contextmanager
    def get(self, bucket: str, key: str) -> Iterator[http.client.HTTPResponse]:
        """GET ``key``: its answer, the body still unread. The connection is kept for the next
        request only when the block read the body to its end (else it is closed)."""
        target, headers = self.signed("GET", bucket, key, {}, None, {}, None)
        connection, response = self._request("GET", key, target, None, headers)
        try:
            yield response
        finally:
            if not response.isclosed():
                connection.close()

    def signed(
        self,
        method: str,
        bucket: str,
        key: str,
        query: Mapping[str, str],
        body: bytes | None,
        headers: dict[str, str],
        sha256: str | None,
    ) -> tuple[str, dict[str, str]]:
        """The request target (path and query) and ``headers`` completed and signed, as the
        SDK builds them (``sha256``: the body's, if the caller took it)."""
        path = f"/{bucket}/{quote(key, safe='/')}"
        query_string = "&".join(f"{_encoded(n)}={_encoded(v)}" for n, v in sorted(query.items()))
        headers["Host"] = self._host
        headers["User-Agent"] = USER_AGENT
        if body:
            headers["Content-Length"] = str(len(body))
        creds = self._credentials.retrieve() if self._credentials is not None else None
        if creds is not None and sha256 is not None:
            content_sha256 = sha256  # taken already: signing with it costs no pass over the body
        elif creds is None or self._scheme == "https":
            content_sha256 = _UNSIGNED
            if body is not None and "Content-MD5" not in headers:
                headers["Content-MD5"] = _md5(body)
        else:
            content_sha256 = hashlib.sha256(body or b"").hexdigest()
        date = datetime.now(UTC)
        headers["x-amz-date"] = date.strftime("%Y%m%dT%H%M%SZ")
        target = f"{path}?{query_string}" if query_string else path
        if creds is None:
            return target, headers
        headers["x-amz-content-sha256"] = content_sha256
        if creds.session_token:
            headers["X-Amz-Security-Token"] = creds.session_token
        url = SplitResult(self._scheme, self._host, path, query_string, "")
        signed = sign_v4_s3(
            method=method,
            url=url,
            region=self._region,
            headers=dict(headers),
            credentials=creds,
            content_sha256=content_sha256,
            date=date,
        )
        return target, {name: str(value) for name, value in signed.items()}

    def _send(
        self,
        bucket: str,
        key: str,
        query: Mapping[str, str],
        body: bytes,
        headers: dict[str, str],
        sha256: str | None,
    ) -> None:
        target, signed = self.signed("PUT", bucket, key, query, body, headers, sha256)
        _connection, response = self._request("PUT", key, target, body, signed)
        response.read()

    def _request(
        self, method: str, key: str, target: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Send one signed request; its connection and a success answer, body unread
        (:class:`S3RequestError` for an error answer)."""
        connection, response = self._exchange(method, target, body, headers)
        if not 200 <= response.status < 300:
            answer = response.read(_ERROR_BYTES)
            if not response.isclosed():  # longer than an error answer: not for the next request
                connection.close()
            raise S3RequestError(key, response.status, *_error_of(answer))
        return connection, response

    def _exchange(
        self, method: str, target: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Send the request on this thread's connection; its answer, body unread."""
        while True:
            connection, reused = self._connection()
            try:
                connection.request(method, target, body=body, headers=headers)
                return connection, connection.getresponse()
            except _CLOSED_WHILE_IDLE:
                connection.close()
                if not reused:
                    raise
            except BaseException:
                connection.close()  # a half-read answer must not meet the next request
                raise

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's connection, opened now if it is not (and whether it was open)."""
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._new()
            self._local.connection = connection
            with self._lock:
                self._opened.append(connection)
        if connection.sock is not None:
            return connection, True
        connection.connect()
        assert connection.sock is not None
        connection.sock.settimeout(self._read_timeout_s)
        # Headers and body leave in two writes: without this the body's last segment could
        # wait for the store's delayed ACK of the headers (urllib3 sets it too).
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, False

    def _new(self) -> http.client.HTTPConnection:
        host, port, timeout = self._hostname, self._port, self._connect_timeout_s
        if self._tls is not None:
            return http.client.HTTPSConnection(host, port, timeout=timeout, context=self._tls)
        return http.client.HTTPConnection(host, port, timeout=timeout)


def _encoded(value: str) -> str:
    """A query or tag component, quoted as the SDK's ``queryencode`` quotes it."""
    return quote(value, safe="")


def _md5(body: bytes) -> str:
    """``Content-MD5``: the base64 MD5 of the body (for integrity, not security)."""
    return base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()


def _error_of(answer: bytes) -> tuple[str | None, str | None]:
    """The S3 error code and message of an error answer (none where it has none)."""
    return _element(answer, _CODE), _element(answer, _MESSAGE)


def _element(answer: bytes, pattern: re.Pattern[bytes]) -> str | None:
    found = pattern.search(answer)
    return None if found is None else found.group(1).decode("utf-8", errors="replace")
