"""Error answers: always JSON, always with a message and a stable code."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from producer_api.schemas import ErrorBody
from producer_api.security import JSON_SECURITY_HEADERS
from producer_api.upload_errors import (
    DependencyUnavailableError,
    IdempotencyConflictError,
    InvalidUploadError,
    MalformedUploadError,
    TenantForbiddenError,
    TooManyUploadsError,
    UnsupportedUploadError,
    UploadError,
    UploadSlotsBusyError,
    UploadTimeoutError,
    UploadTooLargeError,
)

_DEFAULT_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    415: "unsupported_media_type",
    409: "conflict",
    422: "unprocessable",
    429: "rate_limited",
    503: "unavailable",
}


class ApiError(HTTPException):
    """An ``HTTPException`` that also carries a stable ``code`` for clients to switch on."""

    def __init__(
        self,
        status_code: int,
        code: str,
        detail: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status_code, detail=detail, headers=dict(headers or {}))
        self.code = code


#: The answer to each kind of failed upload (the upload path itself knows no HTTP).
_UPLOAD_STATUS: dict[type[UploadError], int] = {
    MalformedUploadError: 400,
    TenantForbiddenError: 403,
    UploadTimeoutError: 408,
    IdempotencyConflictError: 409,
    UploadTooLargeError: 413,
    UnsupportedUploadError: 415,
    InvalidUploadError: 422,
    TooManyUploadsError: 429,
    UploadSlotsBusyError: 503,
    DependencyUnavailableError: 503,
}


def upload_refused(exc: UploadError) -> ApiError:
    """The HTTP answer to ``exc``, for routes that run uploads."""
    headers = {} if exc.retry_after_s is None else {"Retry-After": str(exc.retry_after_s)}
    return ApiError(_UPLOAD_STATUS[type(exc)], exc.code, exc.detail, headers)


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = getattr(exc, "code", None) or _DEFAULT_CODES.get(exc.status_code, "error")
    body = ErrorBody(detail=str(exc.detail), code=code)
    return JSONResponse(body.model_dump(), status_code=exc.status_code, headers=exc.headers)


def _unhandled(_request: Request, exc: Exception) -> JSONResponse:
    """A bug: answer JSON. Starlette re-raises it afterwards, so the server logs the traceback.

    Starlette answers this from outside every middleware, so the security headers the
    middleware adds elsewhere are set here.
    """
    body = ErrorBody(detail="internal error; it has been logged", code="internal_error")
    return JSONResponse(body.model_dump(), status_code=500, headers=JSON_SECURITY_HEADERS)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unhandled)
