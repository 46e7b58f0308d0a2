"""Subject: does the photo show what was reported (a pothole, graffiti, a full bin)?

Needs a municipality's own fine-tuned model; the profile names the labels that
count. A detector misses things, so whether absence is only a warning or costs
score is the profile's choice, not ours.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.checks import Finding
from core.rules import SubjectRule
from core.schema import Detection, Scalar


def subject_finding(detections: Sequence[Detection], rule: SubjectRule) -> Finding:
    """Pass when one (or, with ``require_all``, every) required label was detected.

    ``values`` gives the best confidence per required label (0 when absent).
    """
    floor = rule.min_confidence or 0.0
    best = {label: 0.0 for label in rule.required}
    for d in detections:
        if d.label in best and d.confidence >= floor:
            best[d.label] = max(best[d.label], d.confidence)
    present = [label for label, conf in best.items() if conf > 0]
    found = len(present) == len(best) if rule.require_all else bool(present)
    values: dict[str, Scalar] = {
        f"{label}_confidence": round(conf, 4) for label, conf in best.items()
    }
    thresholds: dict[str, Scalar] = {
        "required": ",".join(rule.required),
        "require_all": rule.require_all,
        "min_confidence": rule.min_confidence,
    }
    if found:
        return Finding(True, 100.0, values, thresholds, "subject_found")
    if rule.on_missing == "warn":
        return Finding(True, 100.0, values, thresholds, "subject_not_found")
    return Finding(False, rule.missing_score, values, thresholds, "subject_missing")
