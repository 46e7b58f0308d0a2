"""The image bytes of an upload request, as they arrive, never the whole body at once.

Two request shapes carry an image: ``multipart/form-data`` with a file field
``image`` (plus optional text fields), and a raw body with ``Content-Type:
image/*``. Both become the same async stream of image chunks, so storage code
does not care which one the client chose. Multipart is parsed incrementally with
``python-multipart`` (the parser Starlette itself uses) instead of
``request.form()``, which would spool the whole upload before we could reject it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from producer_api.upload_errors import (
    InvalidUploadError,
    MalformedUploadError,
    UnsupportedUploadError,
    UploadTimeoutError,
    UploadTooLargeError,
)

IMAGE_FIELD = "image"
#: Text parts per form, counted as they begin, whatever their names: python-multipart
#: parses part headers in Python on the event loop, and 670 000 parts that all reuse one
#: name fit a 32 MiB body (measured: 9 s of CPU, every other request on the replica
#: stalled), while a dict of fields stays at one entry.
MAX_FIELDS = 16
MAX_FIELD_BYTES = 1024

_WRONG_TYPE = (
    "send multipart/form-data with an 'image' file field, "
    "or the image itself as the body with Content-Type: image/*"
)


class _MultipartImage:
    """Splits a multipart body into the ``image`` part's bytes and small text fields."""

    def __init__(self, boundary: bytes) -> None:
        self.fields: dict[str, str] = {}
        self.image_seen = False
        self._text_parts = 0
        self._image_data: list[bytes] = []
        self._headers: dict[bytes, bytes] = {}
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._part: str | None = None  # IMAGE_FIELD, a text field's name, or None
        self._value = bytearray()
        self._parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._on_part_begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
            },
        )

    def feed(self, chunk: bytes) -> list[bytes]:
        """Parse ``chunk``; return the image bytes it contained."""
        try:
            self._parser.write(chunk)
        except MultipartParseError as exc:
            raise MalformedUploadError(
                "malformed_multipart", f"malformed multipart body: {exc}"
            ) from exc
        data, self._image_data = self._image_data, []
        return data

    def finish(self) -> None:
        self._parser.finalize()
        if not self.image_seen:
            raise InvalidUploadError("missing_image", f"the form has no '{IMAGE_FIELD}' file field")

    def _on_part_begin(self) -> None:
        self._headers = {}
        self._part = None
        self._value = bytearray()

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers[bytes(self._header_field).lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition"))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if name == IMAGE_FIELD:
            if self.image_seen:
                raise InvalidUploadError("several_images", "send one 'image' field per request")
            self.image_seen = True
        elif b"filename" in options:
            raise InvalidUploadError("unexpected_file", f"unexpected file field {name!r}")
        else:
            self._text_parts += 1
            if self._text_parts > MAX_FIELDS:
                raise InvalidUploadError("too_many_fields", f"at most {MAX_FIELDS} form fields")
        self._part = name

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part == IMAGE_FIELD:
            self._image_data.append(data[start:end])
            return
        self._value += data[start:end]
        if len(self._value) > MAX_FIELD_BYTES:
            raise InvalidUploadError(
                "field_too_long", f"form field {self._part!r} over {MAX_FIELD_BYTES} bytes"
            )

    def _on_part_end(self) -> None:
        if self._part is None or self._part == IMAGE_FIELD:
            return
        try:
            self.fields[self._part] = self._value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidUploadError(
                "bad_field", f"form field {self._part!r} is not UTF-8"
            ) from exc


class ImageBody:
    """One request's image bytes plus the text fields sent with it (multipart only).

    ``fields`` is complete only once :meth:`chunks` is exhausted, because a form may
    send its text fields after the file. Two clocks bound the body: ``idle_timeout_s``
    between chunks, and ``deadline_s`` for the whole of it, counted from when the
    request was taken, so a client trickling a byte just inside the idle timeout
    still lets go of its upload slot in time.
    """

    def __init__(
        self, request: Request, *, max_bytes: int, idle_timeout_s: float, deadline_s: float
    ) -> None:
        self._request = request
        self._max_bytes = max_bytes
        self._idle_timeout_s = idle_timeout_s
        self._deadline_s = deadline_s
        self._deadline = asyncio.get_running_loop().time() + deadline_s
        media_type, options = parse_options_header(request.headers.get("content-type"))
        self._multipart: _MultipartImage | None = None
        if media_type == b"multipart/form-data":
            boundary = options.get(b"boundary")
            if not boundary:
                raise MalformedUploadError(
                    "malformed_multipart", "multipart body without a boundary"
                )
            self._multipart = _MultipartImage(boundary)
        elif not media_type.startswith(b"image/"):
            raise UnsupportedUploadError("unsupported_media_type", _WRONG_TYPE)
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise _too_large(max_bytes)

    @property
    def fields(self) -> dict[str, str]:
        return {} if self._multipart is None else self._multipart.fields

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        received = 0
        stream = self._request.stream().__aiter__()
        while True:
            try:
                chunk = await self._next(stream)
            except StopAsyncIteration:
                break
            received += len(chunk)
            if received > self._max_bytes:
                raise _too_large(self._max_bytes)
            if self._multipart is None:
                if chunk:
                    yield chunk
            else:
                for piece in self._multipart.feed(chunk):
                    yield piece
        if self._multipart is not None:
            self._multipart.finish()

    async def _next(self, stream: AsyncIterator[bytes]) -> bytes:
        loop = asyncio.get_running_loop()
        idle_until = loop.time() + self._idle_timeout_s
        try:
            async with asyncio.timeout_at(min(idle_until, self._deadline)):
                return await anext(stream)
        except TimeoutError as exc:
            if loop.time() >= self._deadline:
                raise UploadTimeoutError(
                    "upload_timeout",
                    f"the upload did not complete within {self._deadline_s:g} s (UPLOAD_TIMEOUT_S)",
                ) from exc
            raise UploadTimeoutError(
                "upload_timeout", f"no data for {self._idle_timeout_s:g} s"
            ) from exc
        except ClientDisconnect as exc:
            raise MalformedUploadError("client_disconnected", "the client went away") from exc


def _too_large(max_bytes: int) -> UploadTooLargeError:
    return UploadTooLargeError(
        "payload_too_large",
        f"the upload exceeds the {max_bytes}-byte limit (MAX_CONTENT_LENGTH)",
    )
