"""The privacy and subject findings on hand-made detections."""

from __future__ import annotations

from core.checks.privacy import privacy_finding
from core.checks.subject import subject_finding
from core.rules import PrivacyRule, SubjectRule
from core.schema import BoundingBox, Detection

BOX = BoundingBox(x1=0, y1=0, x2=10, y2=10)


def _det(label: str, confidence: float = 0.8, redact: bool = False) -> Detection:
    return Detection(label=label, class_id=0, confidence=confidence, box=BOX, redact=redact)


def test_privacy_passes_by_default_and_counts_what_to_redact() -> None:
    found = [_det("person", redact=True), _det("car", redact=True), _det("person", redact=True)]
    finding = privacy_finding([*found, _det("pothole")], PrivacyRule(weight=1))
    assert finding.passed and finding.score == 100
    assert finding.values == {"redaction_boxes": 3, "labels": "person,car"}
    assert finding.reason_code == "redaction_required"


def test_privacy_fails_when_the_profile_says_so() -> None:
    rule = PrivacyRule(weight=1, fail_when_found=True, found_score=20)
    finding = privacy_finding([_det("person", redact=True)], rule)
    assert not finding.passed and finding.score == 20
    assert finding.reason_code == "people_or_vehicles"
    assert privacy_finding([_det("pothole")], rule).passed


def test_subject_any_all_and_confidence_floor() -> None:
    seen = [_det("pothole", 0.4), _det("graffiti", 0.9)]
    assert subject_finding(seen, SubjectRule(weight=1, required=["pothole", "bin"])).passed
    all_rule = SubjectRule(weight=1, required=["pothole", "bin"], require_all=True)
    assert subject_finding(seen, all_rule).reason_code == "subject_not_found"
    floor = SubjectRule(
        weight=1, required=["pothole"], min_confidence=0.5, on_missing="penalise", missing_score=30
    )
    finding = subject_finding(seen, floor)
    assert not finding.passed and finding.score == 30
    assert finding.values == {"pothole_confidence": 0.0}
