"""Privacy: people and vehicles in a photo that will be published.

Civic photos end up on open-data portals; faces and licence plates must be
blurred first. This check does not judge quality, so by default it always
passes: its job is to set ``redaction_required`` and list the boxes (the engine
puts them in the verdict). A profile can make it fail instead, for services
that cannot redact downstream.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from core.checks import Finding
from core.rules import PrivacyRule
from core.schema import Detection, Scalar


def privacy_finding(detections: Sequence[Detection], rule: PrivacyRule) -> Finding:
    """Judge the detections the engine marked ``redact`` (labels in ``rule.classes``).

    ``values`` holds the count of boxes to redact and the labels found, in
    descending count order, as one comma-separated string.
    """
    sensitive = [d for d in detections if d.redact]
    counts = Counter(d.label for d in sensitive)
    values: dict[str, Scalar] = {
        "redaction_boxes": len(sensitive),
        "labels": ",".join(label for label, _ in counts.most_common()),
    }
    thresholds: dict[str, Scalar] = {
        "classes": ",".join(rule.classes),
        "min_confidence": rule.min_confidence,
    }
    if not sensitive:
        return Finding(True, 100.0, values, thresholds, "nothing_to_redact")
    if not rule.fail_when_found:
        return Finding(True, 100.0, values, thresholds, "redaction_required")
    return Finding(False, rule.found_score, values, thresholds, "people_or_vehicles")
