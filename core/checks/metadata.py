"""Metadata: how much of the EXIF a clerk relies on (time, camera, settings) is present."""

from __future__ import annotations

from core.checks import Finding, relative_margin
from core.exif import METADATA_FIELDS, ExifData
from core.rules import MetadataRule
from core.schema import Scalar


def metadata_finding(exif: ExifData, rule: MetadataRule) -> Finding:
    """Partial credit as the reference: ``2 * completeness``, at most 60."""
    completeness = exif.completeness
    values: dict[str, Scalar] = {
        "completeness_percent": round(completeness, 1),
        "fields_present": ",".join(f for f in METADATA_FIELDS if f in exif.fields),
    }
    thresholds = {"min_completeness_percent": rule.min_completeness}
    margin = relative_margin(completeness, rule.min_completeness, at_least=True)
    if completeness >= rule.min_completeness:
        return Finding(True, 100.0, values, thresholds, "ok", margin=margin)
    return Finding(
        passed=False,
        score=min(60.0, 2.0 * completeness),
        values=values,
        thresholds=thresholds,
        reason_code="missing_exif" if not exif.present else "incomplete_exif",
        margin=margin,
    )
