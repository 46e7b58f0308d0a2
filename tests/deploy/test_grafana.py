"""grafana/: schema-valid dashboards whose queries parse and use the declared metrics."""

from __future__ import annotations

import pytest

from tests.deploy import validators as v

pytestmark = pytest.mark.usefixtures("toolchain")


@pytest.mark.parametrize(
    "check",
    [v.check_dashboards, v.check_dashboard_promql, v.check_metric_names],
    ids=lambda c: c.__name__,
)
def test_check_passes(check) -> None:
    result = check()
    assert result.ok, "\n".join(result.problems)


def test_schema_is_the_pinned_grafana_version() -> None:
    assert v.dashboard_schema_path().name == f"grafana-dashboard-{v.grafana_version()}.json"
    assert v.dashboard_schema_path().stat().st_size > 10_000


def test_schema_rejects_a_broken_dashboard(tmp_path, monkeypatch) -> None:
    import json

    dashboard = json.loads(v.dashboard_files()[0].read_text())
    dashboard["panels"][1]["gridPos"] = {"w": "wide"}
    dashboard["refreshEvery"] = "30s"
    (tmp_path / "broken.json").write_text(json.dumps(dashboard))
    monkeypatch.setattr(v, "DASHBOARDS_DIR", tmp_path)
    result = v.check_dashboards()
    assert not result.ok
    assert any("refreshEvery" in p for p in result.problems)
    assert any("gridPos" in p for p in result.problems)


def test_panels_cover_the_issue() -> None:
    titles = {q.panel for q in v.dashboard_queries()}
    for wanted in (
        "Acceptance rate",
        "Acceptance rate per tenant",
        "Verdict breakdown",
        "Check failures per check",
        "Throughput",
        "Ingest latency (POST /v1/images)",
        "End-to-end latency (submitted -> verdict)",
        "Consumer lag per partition",
        "Errors",
        "Dead-lettered messages",
        "Replicas up",
        "Duplicates (exact and near)",
    ):
        assert wanted in titles


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('rate(x{tenant=~"$tenant"}[$__rate_interval])', 'rate(x{tenant=~".*"}[1m])'),
        ('x{tenant=~"${tenant}"}', 'x{tenant=~".*"}'),
        ('x{tenant=~"${tenant:regex}"}', 'x{tenant=~".*"}'),
        ("increase(x[$__range])", "increase(x[1h])"),
        ('x{tenant=~"[[tenant]]"}', 'x{tenant=~".*"}'),
    ],
)
def test_grafana_variables_are_substituted(expr: str, expected: str) -> None:
    assert v.substitute_grafana_variables(expr) == expected


def test_unknown_grafana_variable_fails() -> None:
    with pytest.raises(KeyError):
        v.substitute_grafana_variables("rate(x[$nope])")
