"""deploy/prometheus: promtool checks, unit tests, runbooks, and the configurable band."""

from __future__ import annotations

import pytest
import yaml

from tests.deploy import validators as v

pytestmark = pytest.mark.usefixtures("toolchain")


@pytest.mark.parametrize(
    "check",
    [
        v.check_rules,
        v.check_rule_tests,
        v.check_prometheus_config,
        v.check_runbooks,
        v.check_prometheusrule_in_sync,
    ],
    ids=lambda c: c.__name__,
)
def test_check_passes(check) -> None:
    result = check()
    assert result.ok, "\n".join(result.problems)


def test_rules_cover_the_issue() -> None:
    records = {r["record"] for g in v.rule_groups() for r in g["rules"] if "record" in r}
    alerts = {r["alert"] for r in v.alerting_rules()}
    assert {"civicqc:acceptance_ratio:rate5m", "civicqc:images_scored:rate5m"} <= records
    assert {f"civicqc:end_to_end_latency_seconds:p{q}_5m" for q in (50, 95, 99)} <= records
    assert {
        "CivicQCAcceptanceRateLow",
        "CivicQCAcceptanceRateHigh",
        "CivicQCConsumerLagGrowing",
        "CivicQCHighErrorVerdictRate",
        "CivicQCMessagesDeadLettered",
        "CivicQCEndToEndLatencyHigh",
        "CivicQCNoVerdicts",
    } <= alerts


def test_acceptance_band_is_configuration_not_a_literal() -> None:
    thresholds = {
        r["record"]: r["expr"]
        for g in v.rule_groups()
        if g["name"] == "civicqc.thresholds"
        for r in g["rules"]
    }
    assert thresholds["civicqc_config:acceptance_ratio:min"] == "vector(0.35)"
    assert thresholds["civicqc_config:acceptance_ratio:max"] == "vector(0.40)"
    band_alerts = [r for r in v.alerting_rules() if r["alert"].startswith("CivicQCAcceptance")]
    for rule in band_alerts:
        assert "civicqc_config:acceptance_ratio:" in rule["expr"]
        assert "0.35" not in rule["expr"] and "0.4" not in rule["expr"]


def test_promtool_catches_a_wrong_expectation(tmp_path) -> None:
    """The unit tests would fail if an alert stopped firing (guards against vacuous tests)."""
    source = v.RULE_TESTS_DIR / "civicqc.rules.test.yml"
    tests = yaml.safe_load(source.read_text())
    tests["rule_files"] = [str(p) for p in v.rule_files()]
    for case in tests["tests"]:
        for alert_test in case.get("alert_rule_test", []):
            alert_test["exp_alerts"] = []
    broken = tmp_path / "broken.test.yml"
    broken.write_text(yaml.safe_dump(tests))
    import subprocess

    proc = subprocess.run(
        [v._tool("promtool"), "test", "rules", str(broken)], capture_output=True, check=False
    )
    assert proc.returncode != 0
