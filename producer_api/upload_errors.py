"""Why an upload was not accepted, in the upload path's own terms; the routes map them to HTTP.

The submission code (:mod:`producer_api.submissions`, :mod:`producer_api.intake`,
:mod:`producer_api.idempotency`) raises these and knows nothing of status codes,
as the FastAPI template keeps ``crud.py`` free of HTTP. Each class is one kind of
answer; ``code`` is the stable reason clients switch on, and ``retry_after_s`` says
when trying again makes sense (like aiokafka's ``retriable`` flag).
"""

from __future__ import annotations


class UploadError(Exception):
    """An upload that was not accepted; nothing of it is kept."""

    retry_after_s: int | None = None

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class MalformedUploadError(UploadError):
    """The body cannot be parsed, is empty, or the client went away."""


class UploadTimeoutError(UploadError):
    """The client stopped sending, or sent too slowly to finish in time."""


class UploadTooLargeError(UploadError):
    """Over ``MAX_CONTENT_LENGTH``."""


class UnsupportedUploadError(UploadError):
    """Not an image (sniffed from the bytes) or a request shape we do not take."""


class InvalidUploadError(UploadError):
    """Bad metadata or form fields."""


class TenantForbiddenError(UploadError):
    """The key may not upload for the tenant named."""

    def __init__(self, tenant: str) -> None:
        super().__init__("tenant_forbidden", f"this API key may not upload for tenant {tenant!r}")


class IdempotencyConflictError(UploadError):
    """The stored record for an ``Idempotency-Key`` cannot be read."""


class TooManyUploadsError(UploadError):
    """This key already has as many uploads in flight as it may."""

    retry_after_s = 1


class UploadSlotsBusyError(UploadError):
    """Every upload slot of this replica is taken."""

    retry_after_s = 1


class DependencyUnavailableError(UploadError):
    """Object storage or Kafka failed; the image was not accepted."""

    retry_after_s = 1

    def __init__(self, dependency: str) -> None:
        super().__init__(
            f"{dependency}_unavailable",
            f"{dependency.replace('_', ' ')} is unavailable: the image was not accepted; "
            "retry later",
        )
