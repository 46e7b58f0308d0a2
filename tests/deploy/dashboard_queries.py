"""Run every PromQL query of every Grafana dashboard against a live Prometheus.

Grafana's variables (``$tenant``, ``$__rate_interval`` ...) are substituted first
(:data:`tests.deploy.validators.GRAFANA_VARIABLES`), then each query runs as a range query
over the last few minutes, as a panel would. Used by ``tests/deploy/test_dashboard_queries.py``
and from a shell:

    .venv/bin/python -m tests.deploy.dashboard_queries http://127.0.0.1:9090
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tests.deploy.validators import (
    GRAFANA_VARIABLES,
    PanelQuery,
    dashboard_queries,
    substitute_grafana_variables,
)


@dataclass(frozen=True)
class QueryOutcome:
    query: PanelQuery
    promql: str
    #: Series returned (0 when empty or failed).
    series: int
    #: Prometheus' error, or None when the query ran.
    error: str | None

    def describe(self) -> str:
        where = f"{self.query.dashboard} / {self.query.panel} / {self.query.ref_id}"
        state = f"ERROR {self.error}" if self.error else f"{self.series} series"
        return f"{where}: {state}\n    {self.promql}"


def range_query(
    base_url: str, promql: str, lookback_s: float = 300, step_s: float = 15, timeout_s: float = 10
) -> tuple[int, str | None]:
    """Series count of a range query over the last ``lookback_s``, or its error."""
    end = time.time()
    params = {"query": promql, "start": end - lookback_s, "end": end, "step": step_s}
    url = f"{base_url.rstrip('/')}/api/v1/query_range?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            payload = json.loads(response.read())
    except urllib.error.HTTPError as error:  # 400/422: Prometheus explains in the body
        payload = json.loads(error.read() or b"{}")
    if payload.get("status") != "success":
        return 0, f"{payload.get('errorType')}: {payload.get('error')}"
    return len(payload["data"]["result"]), None


def run_dashboard_queries(
    base_url: str,
    queries: Iterable[PanelQuery] | None = None,
    variables: Mapping[str, str] = GRAFANA_VARIABLES,
    lookback_s: float = 300,
) -> list[QueryOutcome]:
    outcomes = []
    for query in dashboard_queries() if queries is None else queries:
        promql = substitute_grafana_variables(query.expr, variables)
        series, error = range_query(base_url, promql, lookback_s=lookback_s)
        outcomes.append(QueryOutcome(query, promql, series, error))
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prometheus_url")
    parser.add_argument("--lookback", type=float, default=300, help="seconds (default 300)")
    args = parser.parse_args(argv)
    outcomes = run_dashboard_queries(args.prometheus_url, lookback_s=args.lookback)
    for outcome in outcomes:
        print(outcome.describe())
    errors = [o for o in outcomes if o.error]
    empty_core = [o for o in outcomes if o.query.core and not o.error and o.series == 0]
    print(f"{len(outcomes)} queries: {len(errors)} errors, {len(empty_core)} empty core panels")
    return 1 if errors or empty_core else 0


if __name__ == "__main__":
    sys.exit(main())
