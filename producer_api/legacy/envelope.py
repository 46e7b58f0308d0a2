"""The envelope every ``/api/*`` answer comes in, and the reference's error answers.

The reference answers an error as ``error: {code: <HTTP status>, message}`` with the
same text in ``message``; its documentation promised upper-case codes
(``MISSING_IMAGE``...), which this service adds as ``error.error_code``, with its
own lower-case code in ``error.details``.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from core.formats import EXTENSIONS
from producer_api.errors import ApiError

DataT = TypeVar("DataT")

_ALLOWED = ", ".join(sorted({*EXTENSIONS.values(), "jpeg", "heif"}))
_NO_IMAGE = (400, "No image file provided", "MISSING_IMAGE")
#: Our codes -> the reference's status, message and documented code, for the upload
#: failures it has. Its messages name nothing internal, so they are kept verbatim.
_REFERENCE: dict[str, tuple[int, str, str]] = {
    "missing_image": _NO_IMAGE,
    "malformed_multipart": _NO_IMAGE,
    "unsupported_media_type": _NO_IMAGE,
    "empty_upload": (400, "No file selected", "MISSING_IMAGE"),
    "not_an_image": (400, f"File type not allowed. Allowed types: {_ALLOWED}", "INVALID_IMAGE"),
    "payload_too_large": (413, "File too large", "FILE_TOO_LARGE"),
}


class LegacyModel(BaseModel):
    """Frozen: an answer is built once, then serialised."""

    model_config = ConfigDict(frozen=True)


class LegacyError(LegacyModel):
    code: int = Field(description="The HTTP status, as the reference sends it.")
    message: str
    error_code: str = Field(
        description="The reference's documented code (MISSING_IMAGE, INVALID_IMAGE, "
        "FILE_TOO_LARGE) or this API's code upper-cased (added)."
    )
    details: str = Field(description="This API's stable lower-case code (added).")


class LegacyEnvelope(LegacyModel, Generic[DataT]):
    """Every ``/api/*`` answer, success or failure."""

    success: bool
    message: str
    data: DataT | None = None
    error: LegacyError | None = None


def legacy_status(error: ApiError) -> int:
    """The reference's HTTP status for ``error``: it answers every bad upload with 400."""
    known = _REFERENCE.get(error.code)
    if known is not None:
        return known[0]
    return 400 if error.status_code == 422 else error.status_code


def failure(error: ApiError) -> LegacyEnvelope[None]:
    """An ``ApiError`` (from the shared submission path) as the reference's error envelope."""
    status, message, code = _REFERENCE.get(
        error.code, (legacy_status(error), str(error.detail), error.code.upper())
    )
    return LegacyEnvelope[None](
        success=False,
        message=message,
        error=LegacyError(code=status, message=message, error_code=code, details=error.code),
    )
