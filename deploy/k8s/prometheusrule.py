"""Render ``base/prometheusrule.yaml`` from the Prometheus rule files, the one source of the rules.

Compose's Prometheus loads ``deploy/prometheus/rules/*.rules.yml`` directly; the
Prometheus Operator needs them wrapped in a ``PrometheusRule``. This script writes
that wrapper, and ``tests/deploy`` checks the committed file still matches::

    .venv/bin/python deploy/k8s/prometheusrule.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
RULES_DIR = HERE.parent / "prometheus" / "rules"
TARGET = HERE / "base" / "prometheusrule.yaml"

_HEADER = (
    "# GENERATED from deploy/prometheus/rules/*.rules.yml: do not edit by hand.\n"
    "# Regenerate: .venv/bin/python deploy/k8s/prometheusrule.py\n"
    "# To tune thresholds per environment, patch the civicqc.thresholds group in an overlay.\n"
)


def rule_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.rules.yml"))


def rule_groups() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for path in rule_files():
        groups.extend(yaml.safe_load(path.read_text())["groups"])
    return groups


def manifest() -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "civicqc"},
        "spec": {"groups": rule_groups()},
    }


def render() -> str:
    return _HEADER + yaml.safe_dump(manifest(), sort_keys=False, width=100)


def main() -> int:
    TARGET.write_text(render())
    print(f"wrote {TARGET.relative_to(HERE.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
