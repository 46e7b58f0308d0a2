"""The single entry point of the engine: bytes and rules in, verdict out.

Pure: no I/O, no globals, no logging. Timings are returned as data for the
shells to record as metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter

from core.checks import Finding
from core.checks.blur import blur_finding
from core.checks.brightness import brightness_finding
from core.checks.compression import compression_finding
from core.checks.exposure import exposure_finding
from core.checks.metadata import metadata_finding
from core.checks.resolution import resolution_finding
from core.decode import DecodedImage, decode_image
from core.errors import ImageError
from core.exif import ExifData, parse_exif
from core.rules import CheckRule, Rules
from core.schema import (
    CheckResult,
    ErrorCode,
    ErrorInfo,
    ImageInfo,
    Outcome,
    ProfileRef,
    Timings,
    Verdict,
)
from core.scoring import decide, quality_level, weighted_score
from core.version import ENGINE_VERSION

_Check = Callable[[DecodedImage, ExifData], Finding]


def score(data: bytes, rules: Rules, *, image_id: str | None = None) -> Verdict:
    """Score one image. Never raises for bad input: that becomes an ``error`` verdict."""
    started = perf_counter()
    try:
        image = decode_image(
            data, max_pixels=rules.max_pixels, analysis_long_side=rules.analysis_long_side
        )
    except ImageError as exc:
        return error_verdict(
            exc.code,
            exc.message,
            rules,
            image_id=image_id,
            elapsed_ms=_ms(perf_counter() - started),
        )
    decoded = perf_counter()
    exif = parse_exif(image.exif)
    results = [_run(name, check, rule, image, exif) for name, check, rule in _checks(rules) if rule]
    total = weighted_score(results)
    vetoed_by = [r.name for r in results if r.vetoed]
    finished = perf_counter()
    return Verdict(
        image_id=image_id,
        verdict=decide(total, rules.accept_score, vetoed_by),
        score=round(total, 2),
        quality=quality_level(total),
        accept_score=rules.accept_score,
        checks={r.name: r for r in results},
        vetoed_by=vetoed_by,
        recommendations=list(
            dict.fromkeys(r.recommendation for r in results if r.recommendation and not r.passed)
        ),
        image=ImageInfo(
            format=image.format.value,
            width=image.width,
            height=image.height,
            megapixels=round(image.megapixels, 3),
            size_bytes=image.size_bytes,
            analysis_width=image.grey.shape[1],
            analysis_height=image.grey.shape[0],
        ),
        exif=exif.summary,
        profile=ProfileRef(name=rules.name, version=rules.version),
        timings=Timings(
            decode_ms=_ms(decoded - started),
            checks_ms=_ms(finished - decoded),
            total_ms=_ms(finished - started),
        ),
        engine_version=ENGINE_VERSION,
    )


def error_verdict(
    code: ErrorCode,
    message: str,
    rules: Rules,
    *,
    image_id: str | None = None,
    elapsed_ms: float = 0.0,
) -> Verdict:
    """The verdict for an image that could not be scored, e.g. one a shell could not read."""
    return Verdict(
        image_id=image_id,
        verdict=Outcome.ERROR,
        accept_score=rules.accept_score,
        error=ErrorInfo(code=code, message=message),
        profile=ProfileRef(name=rules.name, version=rules.version),
        timings=Timings(decode_ms=elapsed_ms, checks_ms=0.0, total_ms=elapsed_ms),
        engine_version=ENGINE_VERSION,
    )


def _checks(rules: Rules) -> list[tuple[str, _Check, CheckRule | None]]:
    c = rules.checks
    return [
        ("blur", lambda img, _: blur_finding(img.grey, c.blur), c.blur),
        (
            "resolution",
            lambda img, _: resolution_finding(img.width, img.height, c.resolution),
            c.resolution,
        ),
        ("brightness", lambda img, _: brightness_finding(img.grey, c.brightness), c.brightness),
        ("exposure", lambda img, _: exposure_finding(img.grey, c.exposure), c.exposure),
        ("metadata", lambda _, exif: metadata_finding(exif, c.metadata), c.metadata),
        (
            "compression",
            lambda img, _: compression_finding(img.quantization, img.full_grey, c.compression),  # type: ignore[arg-type]
            c.compression,
        ),
    ]


def _run(
    name: str, check: _Check, rule: CheckRule, image: DecodedImage, exif: ExifData
) -> CheckResult:
    started = perf_counter()
    finding = check(image, exif)
    vetoed = not finding.passed and rule.veto_below is not None and finding.score < rule.veto_below
    return CheckResult(
        name=name,
        passed=finding.passed,
        score=round(finding.score, 2),
        weight=rule.weight,
        values=dict(finding.values),
        thresholds=dict(finding.thresholds),
        reason_code=finding.reason_code,
        reason=finding.reason,
        recommendation=finding.recommendation,
        blocking=rule.veto_below is not None,
        vetoed=vetoed,
        duration_ms=_ms(perf_counter() - started),
    )


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 3)
