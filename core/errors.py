"""Domain errors of the engine. Each carries the :class:`~core.schema.ErrorCode` it maps to.

An image that cannot be scored is an expected outcome (an ``error`` verdict), not a
crash: :func:`core.score` catches exactly these and nothing broader, so a genuine
bug still surfaces and the message is retried by the stream.
"""

from __future__ import annotations

from core.schema import ErrorCode


class ImageError(Exception):
    """Base class: the bytes are not an image this engine can score."""

    code: ErrorCode = ErrorCode.CORRUPT

    def __init__(self, message: str, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0])


class EmptyImageError(ImageError):
    code = ErrorCode.EMPTY


class UnsupportedFormatError(ImageError):
    code = ErrorCode.UNSUPPORTED_FORMAT


class CorruptImageError(ImageError):
    code = ErrorCode.CORRUPT


class TooManyPixelsError(ImageError):
    """Decompression-bomb guard: the header announces more pixels than the rules allow."""

    code = ErrorCode.TOO_MANY_PIXELS


class TooComplexError(ImageError):
    """A valid container whose structure (scans, tiles, segments) would take too long to decode."""

    code = ErrorCode.TOO_COMPLEX
