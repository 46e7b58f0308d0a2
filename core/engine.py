"""The single entry point of the engine: bytes and rules in, verdict out.

Pure: no I/O, no globals, no logging. Timings are returned as data for the
shells to record as metrics.

When a profile enables the privacy or subject check, the caller also passes a
:class:`core.detect.Detector`, built once per worker process by the shell (a
model takes far longer to load than to run). :func:`score_batch` runs the
detector once for several images, which is how a consumer holding a batch of
messages should call the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import perf_counter

from core.checks import Finding
from core.checks.blur import blur_finding
from core.checks.brightness import brightness_finding
from core.checks.compression import compression_finding
from core.checks.exposure import exposure_finding
from core.checks.metadata import metadata_finding
from core.checks.privacy import privacy_finding
from core.checks.resolution import resolution_finding
from core.checks.subject import subject_finding
from core.decode import DecodedImage, decode_image
from core.detect import Detector, RawDetection, label_for
from core.errors import ImageError
from core.exif import ExifData, parse_exif
from core.fingerprint import fingerprint, fingerprint_hex
from core.rules import CheckRule, ResolutionRule, Rules
from core.schema import (
    BoundingBox,
    CheckResult,
    Detection,
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


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    """What a profile asks of the decoder; two profiles with equal options can share a decode."""

    max_pixels: int
    analysis_long_side: int
    colour_long_side: int
    fine_long_side: int
    colour_clip: bool


def decode_options(rules: Rules) -> DecodeOptions:
    """The decoder arguments ``rules`` need: the analysis scales, colour, the pixel limit."""
    return DecodeOptions(
        max_pixels=rules.max_pixels,
        analysis_long_side=rules.analysis_long_side,
        colour_long_side=(
            rules.detector.input_size if rules.detection_enabled and rules.detector else 0
        ),
        fine_long_side=_fine_long_side(rules),
        colour_clip=_measures_colour_clip(rules),
    )


@dataclass(frozen=True, slots=True)
class _Decoded:
    image_id: str | None
    image: DecodedImage
    decode_s: float


def score(
    data: bytes, rules: Rules, *, image_id: str | None = None, detector: Detector | None = None
) -> Verdict:
    """Score one image. Never raises for bad input: that becomes an ``error`` verdict.

    ``detector`` is required when ``rules`` enable the privacy or subject check
    (a ``ValueError`` otherwise: that is a wiring mistake, not a bad photo) and
    ignored when they don't.
    """
    return score_batch([data], rules, image_ids=[image_id], detector=detector)[0]


def score_batch(
    images: Sequence[bytes],
    rules: Rules,
    *,
    image_ids: Sequence[str | None] | None = None,
    detector: Detector | None = None,
) -> list[Verdict]:
    """Score several images, running the detector on all of them in one batch.

    Each verdict equals what :func:`score` returns for that image alone, except
    ``timings``: ``detect_ms`` is the batch's detection time divided by its size.
    """
    ids = list(image_ids) if image_ids is not None else [None] * len(images)
    if len(ids) != len(images):
        raise ValueError(f"{len(images)} images but {len(ids)} image ids")
    _require_detector(rules, detector)
    options = decode_options(rules)
    stages: list[_Decoded | Verdict] = [
        _decode(data, rules, image_id, options) for data, image_id in zip(images, ids, strict=True)
    ]
    decoded = [stage for stage in stages if isinstance(stage, _Decoded)]
    detections: list[list[Detection] | None] = [None] * len(decoded)
    detect_ms: float | None = None
    if decoded and detector is not None and rules.detection_enabled:
        started = perf_counter()
        detections = list(_detect(decoded, rules, detector))
        detect_ms = _ms((perf_counter() - started) / len(decoded))
    finished = iter(zip(decoded, detections, strict=True))
    verdicts: list[Verdict] = []
    for stage in stages:
        if isinstance(stage, Verdict):
            verdicts.append(stage)
        else:
            item, found = next(finished)
            verdicts.append(_verdict(item, rules, found, detect_ms))
    return verdicts


def score_pair(
    data: bytes,
    live: Rules,
    candidate: Rules,
    *,
    image_id: str | None = None,
    detector: Detector | None = None,
    candidate_detector: Detector | None = None,
) -> tuple[Verdict, Verdict]:
    """Score one image with the live rules and a candidate profile, decoding it once.

    Each verdict equals what :func:`score` returns for that profile alone, except
    ``timings`` (the candidate's ``decode_ms`` is the shared decode's). A candidate whose
    :func:`decode_options` differ from the live ones (another analysis scale, pixel limit,
    colour or fine scale) needs pixels the live decode does not hold, so it is decoded
    on its own: sharing would change one of the two verdicts.
    """
    _require_detector(live, detector)
    _require_detector(candidate, candidate_detector)
    options = decode_options(live)
    stage = _decode(data, live, image_id, options)
    live_verdict = _finish(stage, live, detector)
    if decode_options(candidate) != options:
        return live_verdict, score(data, candidate, image_id=image_id, detector=candidate_detector)
    if isinstance(stage, Verdict):  # undecodable: the same error, under the candidate's name
        return live_verdict, stage.model_copy(
            update={
                "profile": ProfileRef(name=candidate.name, version=candidate.version),
                "accept_score": candidate.accept_score,
            }
        )
    return live_verdict, _finish(stage, candidate, candidate_detector)


def _require_detector(rules: Rules, detector: Detector | None) -> None:
    if rules.detection_enabled and detector is None:
        raise ValueError(
            f"profile {rules.name!r} enables detection checks, but no detector was passed"
        )


def _finish(stage: _Decoded | Verdict, rules: Rules, detector: Detector | None) -> Verdict:
    """One decoded image's verdict under ``rules`` (detection included when they run it)."""
    if isinstance(stage, Verdict):
        return stage
    if detector is None or not rules.detection_enabled:
        return _verdict(stage, rules, None, None)
    started = perf_counter()
    (found,) = _detect([stage], rules, detector)
    return _verdict(stage, rules, found, _ms(perf_counter() - started))


def _decode(
    data: bytes, rules: Rules, image_id: str | None, options: DecodeOptions
) -> _Decoded | Verdict:
    started = perf_counter()
    try:
        image = decode_image(
            data,
            max_pixels=options.max_pixels,
            analysis_long_side=options.analysis_long_side,
            colour_long_side=options.colour_long_side,
            fine_long_side=options.fine_long_side,
            colour_clip=options.colour_clip,
        )
    except ImageError as exc:
        return error_verdict(
            exc.code,
            exc.message,
            rules,
            image_id=image_id,
            elapsed_ms=_ms(perf_counter() - started),
        )
    return _Decoded(image_id, image, perf_counter() - started)


def _measures_colour_clip(rules: Rules) -> bool:
    """Whether the exposure check reads blown colour channels (JPEGs only)."""
    exposure = rules.checks.exposure
    return exposure.max_colour_clip is not None or exposure.max_channel_clip is not None


def _fine_long_side(rules: Rules) -> int:
    """The blur check's finer scale, when it asks for one above the analysis scale."""
    fine = rules.checks.blur.analysis_long_side
    if not fine or not rules.analysis_long_side or fine <= rules.analysis_long_side:
        return 0
    return fine


def _detect(items: list[_Decoded], rules: Rules, detector: Detector) -> list[list[Detection]]:
    """Run the model on every image at once and map boxes to original-photo pixels."""
    rule = rules.detector
    assert rule is not None
    arrays = [item.image.rgb for item in items]
    if any(a is None for a in arrays):
        raise AssertionError("decode_image kept no colour although detection is on")
    raw = detector.detect([a for a in arrays if a is not None], rule)
    privacy = rules.checks.privacy
    mapped: list[list[Detection]] = []
    for item, found in zip(items, raw, strict=True):
        image = item.image
        assert image.rgb is not None
        sx = image.width / image.rgb.shape[1]
        sy = image.height / image.rgb.shape[0]
        detections = []
        for det in found:
            label = label_for(det.class_id, detector.names, rule)
            redact = privacy is not None and label in privacy.classes
            if redact and privacy is not None and privacy.min_confidence is not None:
                redact = det.confidence >= privacy.min_confidence
            detections.append(
                Detection(
                    label=label,
                    class_id=det.class_id,
                    confidence=round(det.confidence, 4),
                    box=_box(det, sx, sy, image.width, image.height),
                    redact=redact,
                )
            )
        mapped.append(detections)
    return mapped


def _box(det: RawDetection, sx: float, sy: float, width: int, height: int) -> BoundingBox:
    x1, y1, x2, y2 = det.box
    return BoundingBox(
        x1=round(min(max(x1 * sx, 0.0), width), 1),
        y1=round(min(max(y1 * sy, 0.0), height), 1),
        x2=round(min(max(x2 * sx, 0.0), width), 1),
        y2=round(min(max(y2 * sy, 0.0), height), 1),
    )


def _verdict(
    item: _Decoded,
    rules: Rules,
    detections: list[Detection] | None,
    detect_ms: float | None,
) -> Verdict:
    image = item.image
    checks_started = perf_counter()
    exif = parse_exif(image.exif)
    runs = [
        _run(name, check, rule, image, exif, rules.near_margin)
        for name, check, rule in _checks(rules, detections or [])
        if rule
    ]
    results = [result for result, _ in runs]
    # The total uses each check's unrounded score, in the reference's order, so the
    # reference profile's decision at 65 matches the reference to the last digit.
    total = weighted_score((raw, result.weight) for result, raw in runs)
    vetoed_by = [r.name for r in results if r.vetoed]
    # For near-duplicate search by the shells; counted in checks_ms (about 0.2 ms).
    print_hex = fingerprint_hex(fingerprint(image.grey))
    # Per image, not wall-clock: in a batch the images' stages interleave.
    checks_ms = _ms(perf_counter() - checks_started) + (detect_ms or 0.0)
    decode_ms = _ms(item.decode_s)
    return Verdict(
        image_id=item.image_id,
        verdict=decide(total, rules.accept_score, vetoed_by),
        score=round(total, 2),
        quality=quality_level(total),
        accept_score=rules.accept_score,
        checks={r.name: r for r in results},
        vetoed_by=vetoed_by,
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
        detections=detections,
        redaction_required=(
            None
            if detections is None or rules.checks.privacy is None
            else any(d.redact for d in detections)
        ),
        profile=ProfileRef(name=rules.name, version=rules.version),
        timings=Timings(
            decode_ms=decode_ms,
            checks_ms=round(checks_ms, 3),
            total_ms=round(decode_ms + checks_ms, 3),
            detect_ms=detect_ms,
        ),
        engine_version=ENGINE_VERSION,
        fingerprint=print_hex,
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


def _checks(
    rules: Rules, detections: Sequence[Detection]
) -> list[tuple[str, _Check, CheckRule | None]]:
    c = rules.checks
    return [
        ("blur", lambda img, _: blur_finding(img.grey, c.blur, img.fine_grey), c.blur),
        ("brightness", lambda img, _: brightness_finding(img.grey, c.brightness), c.brightness),
        (
            "resolution",
            lambda img, _: resolution_finding(*_compared_size(img, c.resolution), c.resolution),
            c.resolution,
        ),
        (
            "exposure",
            lambda img, _: exposure_finding(
                img.grey, c.exposure, img.colour_clip, channel_clip=img.channel_clip
            ),
            c.exposure,
        ),
        ("metadata", lambda _, exif: metadata_finding(exif, c.metadata), c.metadata),
        (
            "compression",
            lambda img, _: compression_finding(img.quantization, img.full_grey, c.compression),  # type: ignore[arg-type]
            c.compression,
        ),
        ("privacy", lambda _, __: privacy_finding(detections, c.privacy), c.privacy),  # type: ignore[arg-type]
        ("subject", lambda _, __: subject_finding(detections, c.subject), c.subject),  # type: ignore[arg-type]
    ]


def _compared_size(image: DecodedImage, rule: ResolutionRule) -> tuple[int, int]:
    """Width and height as displayed, or as stored (before EXIF orientation) if the rule says."""
    if rule.stored_orientation and image.orientation >= 5:
        return image.height, image.width
    return image.width, image.height


def _run(
    name: str, check: _Check, rule: CheckRule, image: DecodedImage, exif: ExifData, near: float
) -> tuple[CheckResult, float]:
    started = perf_counter()
    finding = check(image, exif)
    vetoed = not finding.passed and rule.veto_below is not None and finding.score < rule.veto_below
    margin = None if finding.margin is None else round(finding.margin, 4)
    result = CheckResult(
        name=name,
        passed=finding.passed,
        score=round(finding.score, 2),
        weight=rule.weight,
        values=dict(finding.values),
        thresholds=dict(finding.thresholds),
        reason_code=finding.reason_code,
        blocking=rule.veto_below is not None,
        vetoed=vetoed,
        margin=margin,
        near_threshold=margin is not None and abs(margin) < near,
        duration_ms=_ms(perf_counter() - started),
    )
    return result, finding.score


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 3)
