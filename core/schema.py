"""The verdict: the contract shared by the CLI, the stream and every downstream subscriber.

All models are frozen pydantic v2 models. Their JSON Schema is exported to
``docs/schemas/`` and a test keeps the committed files current, so a change here
is a visible, reviewable change of the public contract.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ERROR = "error"


class Quality(StrEnum):
    POOR = "poor"
    FAIR = "fair"
    GOOD = "good"
    EXCELLENT = "excellent"


class ErrorCode(StrEnum):
    """Why an image could not be scored at all (``verdict == "error"``)."""

    EMPTY = "empty"
    UNSUPPORTED_FORMAT = "unsupported_format"
    CORRUPT = "corrupt"
    TOO_MANY_PIXELS = "too_many_pixels"
    TOO_COMPLEX = "too_complex"
    TOO_LARGE = "too_large"
    UNREADABLE = "unreadable"


Scalar = float | int | str | bool | None


class CheckResult(_Frozen):
    """One check's outcome, with enough detail for a clerk to see why."""

    name: str = Field(description="Check name, e.g. 'blur'.")
    passed: bool
    score: float = Field(ge=0, le=100, description="0-100, with partial credit when failed.")
    weight: float = Field(ge=0, description="Weight of this check in the total score.")
    values: dict[str, Scalar] = Field(description="Measured values, in the units named by key.")
    thresholds: dict[str, Scalar] = Field(description="The rule values the check compared to.")
    reason_code: str = Field(
        description="Stable machine-readable reason, e.g. 'too_blurry'. Texts (the reason and "
        "what to do) are rendered from it and the values, in the reader's language, by the "
        "message catalogues (runtime/locales); the verdict itself carries no prose."
    )
    blocking: bool = Field(
        default=False, description="A severe failure of this check rejects the photo."
    )
    vetoed: bool = Field(
        default=False, description="True when this check rejected the photo on its own."
    )
    margin: float | None = Field(
        default=None,
        description="How far the deciding measurement lies from its threshold, as a signed "
        "fraction of the threshold: positive on the passing side, negative on the failing "
        "side; with several conditions, the closest or most violated one. Absent when the "
        "check measured nothing.",
    )
    near_threshold: bool = Field(
        default=False,
        description="The margin is within the profile's near_margin: the outcome could "
        "change with a slightly different photo, and the advice says so.",
    )
    duration_ms: float = Field(ge=0)


class GeoPoint(_Frozen):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    altitude_m: float | None = None


class ExifSummary(_Frozen):
    present: bool = Field(description="Whether the image carried a readable EXIF block.")
    camera_make: str | None = None
    camera_model: str | None = None
    captured_at: str | None = Field(
        default=None, description="EXIF DateTimeOriginal as ISO 8601 local time (no zone)."
    )
    orientation: int | None = Field(default=None, ge=1, le=8)
    gps: GeoPoint | None = None


class ImageInfo(_Frozen):
    format: str = Field(description="Detected from the bytes: jpeg, png, webp, heif, tiff, bmp.")
    width: int = Field(ge=1, description="Width after EXIF orientation, in pixels.")
    height: int = Field(ge=1, description="Height after EXIF orientation, in pixels.")
    megapixels: float = Field(ge=0)
    size_bytes: int = Field(ge=0)
    analysis_width: int = Field(ge=1, description="Width of the array the pixel checks used.")
    analysis_height: int = Field(ge=1)


class ErrorInfo(_Frozen):
    code: ErrorCode = Field(description="Why; citizens' text is rendered from it.")
    message: str = Field(description="A technical detail for operators (English, not shown).")


class ProfileRef(_Frozen):
    name: str
    version: str


class Timings(_Frozen):
    decode_ms: float = Field(ge=0)
    checks_ms: float = Field(ge=0)
    total_ms: float = Field(ge=0)
    detect_ms: float | None = Field(
        default=None,
        ge=0,
        description="Object detection (inside checks_ms); in a batch, the batch's time "
        "divided by its size. Absent when no detector ran.",
    )


class BoundingBox(_Frozen):
    """Pixel corners in the original photo, after EXIF orientation; x right, y down."""

    x1: float = Field(ge=0)
    y1: float = Field(ge=0)
    x2: float = Field(ge=0)
    y2: float = Field(ge=0)


class Detection(_Frozen):
    """One object the detector found."""

    label: str = Field(description="Class name after the profile's class map, e.g. 'person'.")
    class_id: int = Field(ge=0, description="The model's own class index.")
    confidence: float = Field(ge=0, le=1)
    box: BoundingBox
    redact: bool = Field(
        default=False, description="The privacy check wants this area blurred before publishing."
    )


class Verdict(_Frozen):
    """The engine's answer for one image (``civicqc score`` prints it; events flatten it).

    ``schema_version`` is the one place the version is written: bump it on any
    incompatible change. Version 2 carries codes and values only, no prose (version 1
    had ``reason``, ``recommendation`` and ``recommendations``): texts are rendered in
    the reader's language from the message catalogues (``runtime/advice.py``).
    """

    schema_version: Literal[2] = 2
    image_id: str | None = Field(default=None, description="Caller-supplied id, echoed back.")
    verdict: Outcome
    score: float | None = Field(default=None, ge=0, le=100, description="Weighted 0-100.")
    quality: Quality | None = None
    accept_score: float = Field(description="Score at or above which a photo is accepted.")
    checks: dict[str, CheckResult] = Field(default_factory=dict)
    vetoed_by: list[str] = Field(
        default_factory=list, description="Blocking checks that rejected the photo on their own."
    )
    image: ImageInfo | None = None
    exif: ExifSummary | None = None
    error: ErrorInfo | None = None
    detections: list[Detection] | None = Field(
        default=None, description="Objects found by the profile's detector; absent when none ran."
    )
    redaction_required: bool | None = Field(
        default=None,
        description="The photo shows people or vehicles that must be blurred before it is "
        "published; absent when the privacy check is off.",
    )
    profile: ProfileRef
    timings: Timings
    engine_version: str
    fingerprint: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{16}$",
        description="64-bit perceptual hash of the photo (DCT pHash, core.fingerprint), hex: "
        "copies of one photo differ in few bits. Null for errors.",
    )
