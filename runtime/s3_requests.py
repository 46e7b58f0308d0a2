"""The store requests made per photo (its GET, its tags, a JSON PUT) without the SDK's transport.

Per photo the consumer makes three requests: the photo's GET, its tags, and its
verdict's PUT. Through ``minio`` + ``urllib3`` the two small ones cost about twice the
client CPU of the same signed request sent with ``http.client`` (0.46-0.51 against
0.22-0.23 ms per tag request, in one process on the development machine), and a 2.7 MB
GET 1.21 against 0.90 ms: the SDK's request wrappers, the pool manager's URL parsing and
urllib3's header and response layers are most of a request that carries a few hundred
bytes. ``python -m bench.drain`` counts that CPU against the consumer.

What is sent is what the SDK would send: the URL (region, addressing style, key
quoting), the headers and the SigV4 signature come from the client's own builders
(:class:`runtime.object_store._DigestReusingMinio` included), so only the transport
differs. Each thread keeps one connection to the store (a store thread runs one request
at a time); a kept-alive connection the store closed while idle is opened again once
(every request sent here is idempotent), any other failure is the caller's. A GET's
body is the caller's to read (its bound is :mod:`runtime.object_store`'s); one left
unread closes its connection.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import ssl
import threading
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import SplitResult

from minio import Minio
from minio.commonconfig import Tags
from minio.helpers import md5sum_hash, queryencode
from minio.signer import sign_v4_s3
from minio.tagging import Tagging
from minio.xml import marshal

#: S3 error codes that mean "no such key" (SeaweedFS answers NoSuchObject to some requests).
MISSING_CODES = frozenset({"NoSuchKey", "NoSuchObject"})
#: What a kept-alive connection raises when the store had closed it: sent again, once.
_CLOSED_WHILE_IDLE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
#: The two elements of an S3 error answer it is read for (bounded: a code is short).
_CODE = re.compile(rb"<Code>([^<]{1,100})</Code>")
_MESSAGE = re.compile(rb"<Message>([^<]{1,500})</Message>")
#: Most of an error answer read: S3's are a few hundred bytes, and a store is not trusted
#: to keep them short.
_ERROR_BYTES = 64 * 1024


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
    """GET an object, tag one, or PUT a body held in memory, signed by ``client``'s own
    builders."""

    def __init__(self, client: Minio, *, connect_timeout_s: float, read_timeout_s: float) -> None:
        self._client = client
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s
        self._local = threading.local()
        self._opened: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def put(self, bucket: str, key: str, body: bytes, content_type: str, tags: Tags | None) -> None:
        """PUT ``body`` at ``key`` with ``tags`` in the same request (as ``put_object``)."""
        headers = {"Content-Type": content_type}
        if tags:
            headers["x-amz-tagging"] = "&".join(
                f"{queryencode(name)}={queryencode(value)}" for name, value in tags.items()
            )
        self._send(bucket, key, {}, body, headers)

    def tag(self, bucket: str, key: str, tags: Tags) -> None:
        """Replace the tags of ``key`` (as ``set_object_tags``)."""
        body = marshal(Tagging(tags))
        self._send(bucket, key, {"tagging": ""}, body, {"Content-MD5": md5sum_hash(body)})

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
        connection, response = self._request("GET", bucket, key, {}, None, {})
        try:
            yield response
        finally:
            if not response.isclosed():
                connection.close()

    def _send(
        self, bucket: str, key: str, query: dict[str, Any], body: bytes, headers: dict[str, Any]
    ) -> None:
        _connection, response = self._request("PUT", bucket, key, query, body, headers)
        response.read()

    def _request(
        self,
        method: str,
        bucket: str,
        key: str,
        query: dict[str, Any],
        body: bytes | None,
        headers: dict[str, Any],
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Sign and send one request; its connection and a success answer, body unread
        (:class:`S3RequestError` for an error answer)."""
        # The SDK's private builders: tests/runtime/test_s3_requests.py fails if a new SDK
        # changes them.
        client = self._client
        region = client._get_region(bucket)
        url = client._base_url.build(
            method=method, region=region, bucket_name=bucket, object_name=key, query_params=query
        )
        creds = client._provider.retrieve() if client._provider else None
        signed, date = client._build_headers(url.netloc, headers, body, creds)
        if creds is not None:
            signed = sign_v4_s3(
                method=method,
                url=url,
                region=region,
                headers=signed,
                credentials=creds,
                content_sha256=str(signed["x-amz-content-sha256"]),
                date=date,
            )
        target = f"{url.path}?{url.query}" if url.query else url.path
        sent = {name: v if isinstance(v, str) else ",".join(v) for name, v in signed.items()}
        connection, response = self._exchange(url, method, target, body, sent)
        if not 200 <= response.status < 300:
            answer = response.read(_ERROR_BYTES)
            if not response.isclosed():  # longer than an error answer: not for the next request
                connection.close()
            raise S3RequestError(key, response.status, *_error_of(answer))
        return connection, response

    def _exchange(
        self,
        url: SplitResult,
        method: str,
        target: str,
        body: bytes | None,
        headers: Mapping[str, str],
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Send the request on this thread's connection; its answer, body unread."""
        while True:
            connection, reused = self._connection(url)
            try:
                connection.request(method, target, body=body, headers=dict(headers))
                return connection, connection.getresponse()
            except _CLOSED_WHILE_IDLE:
                connection.close()
                if not reused:
                    raise
            except BaseException:
                connection.close()  # a half-read answer must not meet the next request
                raise

    def _connection(self, url: SplitResult) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's connection, opened now if it is not (and whether it was open)."""
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._new(url)
            self._local.connection = connection
            with self._lock:
                self._opened.append(connection)
        if connection.sock is not None:
            return connection, True
        connection.connect()
        assert connection.sock is not None
        connection.sock.settimeout(self._read_timeout_s)
        return connection, False

    def _new(self, url: SplitResult) -> http.client.HTTPConnection:
        host, port = url.hostname or "", url.port
        if url.scheme == "https":
            return http.client.HTTPSConnection(
                host, port, timeout=self._connect_timeout_s, context=ssl.create_default_context()
            )
        return http.client.HTTPConnection(host, port, timeout=self._connect_timeout_s)


def _error_of(answer: bytes) -> tuple[str | None, str | None]:
    """The S3 error code and message of an error answer (none where it has none)."""
    return _element(answer, _CODE), _element(answer, _MESSAGE)


def _element(answer: bytes, pattern: re.Pattern[bytes]) -> str | None:
    found = pattern.search(answer)
    return None if found is None else found.group(1).decode("utf-8", errors="replace")
