"""The reference system's answers, as shapes: every key, its type and value convention.

Derived from the reference's public code (``app/routes/upload.py``,
``app/services/quality_control.py``, ``app/utils/*.py``, ``app/utils/response_formatter.py``
and ``config.py``, repository nitish-niraj/civic-photo-quality-control) and its own tests
(``tests/test_api_endpoints.py``): what its Flask app actually returns, which is what
its clients were written against. A shape lists the keys the reference sends; an answer
conforms when it has each of them with the same type and convention. Extra keys are
allowed, so this checks that our answers are a superset.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Shape = Any  # a type, None, a dict of shapes, or one of the matchers below


@dataclass(frozen=True)
class OneOf:
    values: tuple[object, ...]


@dataclass(frozen=True)
class ListOf:
    item: Shape
    length: int | None = None


@dataclass(frozen=True)
class Rounded:
    """A JSON number with at most ``decimals`` decimals (the reference's ``round(x, n)``)."""

    decimals: int


@dataclass(frozen=True)
class Nullable:
    shape: Shape


@dataclass(frozen=True)
class Check:
    why: str
    test: Callable[[Any], bool]


STATUS = OneOf(("pass", "fail"))
ISO_TIME = Check(
    "an ISO 8601 time", lambda v: isinstance(v, str) and bool(datetime.fromisoformat(v))
)
METADATA_FIELDS = (
    "timestamp",
    "camera_make_model",
    "orientation",
    "iso",
    "shutter_speed",
    "aperture",
)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


NUMBER = Check("a number", _is_number)


def problems(value: object, shape: Shape, path: str = "$") -> list[str]:
    """Every way ``value`` misses ``shape``; empty when it conforms."""
    if shape is None:
        return [] if value is None else [f"{path}: {value!r} is not null"]
    if isinstance(shape, Nullable):
        return [] if value is None else problems(value, shape.shape, path)
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{path}: {value!r} is not an object"]
        found = []
        for key, inner in shape.items():
            if key not in value:
                found.append(f"{path}.{key}: missing")
            else:
                found += problems(value[key], inner, f"{path}.{key}")
        return found
    if isinstance(shape, ListOf):
        if not isinstance(value, list):
            return [f"{path}: {value!r} is not a list"]
        if shape.length is not None and len(value) != shape.length:
            return [f"{path}: {len(value)} items, not {shape.length}"]
        return [
            p for i, item in enumerate(value) for p in problems(item, shape.item, f"{path}[{i}]")
        ]
    if isinstance(shape, OneOf):
        return [] if value in shape.values else [f"{path}: {value!r} not one of {shape.values}"]
    if isinstance(shape, Rounded):
        if not _is_number(value):
            return [f"{path}: {value!r} is not a number"]
        assert isinstance(value, int | float)
        return (
            []
            if round(value, shape.decimals) == value
            else [f"{path}: {value} has more than {shape.decimals} decimals"]
        )
    if isinstance(shape, Check):
        return [] if shape.test(value) else [f"{path}: {value!r} is not {shape.why}"]
    if shape is int:
        return (
            []
            if isinstance(value, int) and not isinstance(value, bool)
            else [f"{path}: {value!r} is not an integer"]
        )
    assert isinstance(shape, type)
    return [] if isinstance(value, shape) else [f"{path}: {value!r} is not {shape.__name__}"]


def envelope(data: Shape, message: Shape = str) -> dict[str, Shape]:
    """``ResponseFormatter.success``: ``{success: true, message, data, error: null}``."""
    return {"success": OneOf((True,)), "message": message, "data": data, "error": None}


def error_envelope(status: int, message: str) -> dict[str, Shape]:
    """``ResponseFormatter.error``: the message twice, and the HTTP status as ``error.code``."""
    return {
        "success": OneOf((False,)),
        "message": OneOf((message,)),
        "data": None,
        "error": {"code": OneOf((status,)), "message": OneOf((message,))},
    }


# ------------------------------------------------ POST /api/validate (upload.py, quality_control.py)

#: ``validate_image_with_new_rules``: each check's keys (blur_detection.py & co. round).
CHECKS: dict[str, Shape] = {
    "blur": {"status": STATUS, "score": Rounded(2), "threshold": NUMBER, "reason": str},
    "brightness": {
        "status": STATUS,
        "mean_brightness": Rounded(2),
        "range": ListOf(NUMBER, length=2),
        "reason": str,
    },
    "resolution": {
        "status": STATUS,
        "width": int,
        "height": int,
        "megapixels": Rounded(2),
        "min_required": Check(
            'like "800x600, ≥0.5 MP"', lambda v: bool(re.fullmatch(r"\d+x\d+, ≥[\d.]+ MP", v))
        ),
        "reason": str,
    },
    "exposure": {"status": STATUS, "dynamic_range": int, "threshold": NUMBER, "reason": str},
    "metadata": {
        "status": STATUS,
        "completeness": Rounded(1),
        "required_min": NUMBER,
        "missing_fields": ListOf(OneOf(METADATA_FIELDS)),
        "reason": str,
    },
}


def validation(overall_status: str) -> dict[str, Shape]:
    """A scored photo (pass or fail): the route's ``summary`` and ``checks``."""
    return envelope(
        {
            "summary": {
                "overall_status": OneOf((overall_status,)),
                "overall_score": Rounded(1),
                "issues_found": int,
                "recommendations": ListOf(str),
            },
            "checks": CHECKS,
        },
        message=OneOf(("Image validation completed",)),
    )


#: A file it cannot read (``cv2.imread`` is None): the outer ``except`` keeps the initial
#: result, so every check is null, the score 0 and one issue; HTTP 200 all the same.
UNREADABLE = envelope(
    {
        "summary": {
            "overall_status": OneOf(("fail",)),
            "overall_score": OneOf((0,)),
            "issues_found": OneOf((1,)),
            "recommendations": ListOf(str),
        },
        "checks": {name: None for name in CHECKS},
    },
    message=OneOf(("Image validation completed",)),
)

#: ``_extract_upload`` and the ``RequestEntityTooLarge`` handler.
NO_IMAGE = (400, "No image file provided")
NO_FILE_SELECTED = (400, "No file selected")
TOO_LARGE = (413, "File too large")
NOT_ALLOWED_PREFIX = "File type not allowed. Allowed types: "

# ----------------------------------------------------- POST /api/upload (the older upload.py)

#: ``validate_image``: the older flat report.
OLD_REPORT: dict[str, Shape] = {
    "timestamp": ISO_TIME,
    "image_path": str,
    "overall_status": OneOf(
        ("excellent", "good", "acceptable", "needs_improvement", "rejected", "error")
    ),
    "issues": ListOf(
        {"type": str, "severity": OneOf(("critical", "high", "medium")), "message": str}
    ),
    "warnings": ListOf(str),
    "validations": {
        name: Nullable(dict)
        for name in (
            "blur_detection",
            "brightness_validation",
            "resolution_check",
            "exposure_check",
            "metadata_extraction",
        )
    },
    "metrics": {
        "total_issues": int,
        "total_warnings": int,
        "validations_completed": int,
        "validations_failed": int,
        "quality_scores": dict,
        "overall_quality_score": NUMBER,
    },
    "recommendations": ListOf(str),
    "processing_time_seconds": NUMBER,
}

# ------------------------------------------------------------------------ the other endpoints

HEALTH = envelope(
    {"status": OneOf(("healthy",)), "service": str, "api_version": str, "validation_rules": str}
)

#: ``get_validation_summary``.
SUMMARY = envelope(
    {
        "total_processed": int,
        "total_rejected": int,
        "total_images": int,
        "acceptance_rate": Rounded(2),
        "last_updated": ISO_TIME,
    },
    message=OneOf(("Processing summary retrieved",)),
)

#: ``config.VALIDATION_RULES``.
VALIDATION_RULES = envelope(
    {
        "blur": {
            "metric": str,
            "min_score": NUMBER,
            "levels": {"excellent": NUMBER, "acceptable": NUMBER, "poor": NUMBER},
        },
        "brightness": {
            "metric": str,
            "range": ListOf(NUMBER, length=2),
            "quality_score_min": NUMBER,
        },
        "resolution": {
            "min_width": int,
            "min_height": int,
            "min_megapixels": NUMBER,
            "recommended_megapixels": NUMBER,
        },
        "exposure": {
            "metric": str,
            "min_score": NUMBER,
            "acceptable_range": ListOf(NUMBER, length=2),
            "check_clipping": {"max_percentage": NUMBER},
        },
        "metadata": {
            "required_fields": ListOf(OneOf(METADATA_FIELDS)),
            "min_completeness_percentage": NUMBER,
        },
    },
    message=Check("the reference's message", lambda v: v.startswith("Current validation rules")),
)

#: ``test_api_endpoint`` (older upload.py) and docs/API_v2.md.
TEST_API = envelope(
    {
        "api_version": str,
        "timestamp": ISO_TIME,
        "validation_rules_applied": {
            name: str
            for name in ("blur", "brightness", "resolution", "exposure", "metadata", "overall")
        },
        "endpoints": {
            name: str
            for name in (
                "POST /api/validate",
                "POST /api/upload",
                "GET /api/validation-rules",
                "GET /api/test-api",
                "GET /api/health",
                "GET /api/summary",
            )
        },
        "example_response_structure": dict,
        "features": ListOf(str),
    }
)
