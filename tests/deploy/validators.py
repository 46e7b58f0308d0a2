"""Offline validation of the deployment artefacts: Prometheus rules, Grafana dashboards,
docker-compose, Kubernetes manifests and the CRs for KEDA and the Prometheus Operator.

Each ``check_*`` function runs one validator and returns a :class:`CheckResult` (what was
counted, how long it took, the problems found). ``deploy/validate/run.sh`` installs the
toolchain into ``~/.cache/civicqc`` and then runs ``python -m tests.deploy.validators``,
which prints every result; ``tests/deploy/`` asserts on the same functions.

``python -m tests.deploy.validators --write-prometheusrule`` regenerates
``deploy/k8s/base/prometheusrule.yaml`` from ``deploy/prometheus/rules/``.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("CIVICQC_CACHE", "~/.cache/civicqc")).expanduser()

RULES_DIR = REPO / "deploy" / "prometheus" / "rules"
RULE_TESTS_DIR = REPO / "deploy" / "prometheus" / "tests"
PROMETHEUS_CONFIG = REPO / "deploy" / "prometheus" / "prometheus.yml"
COMPOSE_FILE = REPO / "docker-compose.yml"
DASHBOARDS_DIR = REPO / "grafana" / "dashboards"
DATASOURCES_DIR = REPO / "grafana" / "provisioning" / "datasources"
K8S_DIR = REPO / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
STRIMZI_COMPONENT = K8S_DIR / "components" / "strimzi-topics"
PROMETHEUSRULE_FILE = K8S_DIR / "base" / "prometheusrule.yaml"
OPERATIONS_DOC = REPO / "docs" / "OPERATIONS.md"

#: Prometheus job names, used by the rules and the dashboards; Kubernetes Service names and
#: compose scrape jobs must produce exactly these.
JOBS = ("civicqc-api", "civicqc-consumer")

#: Which settings class reads the environment of which container (compose service or
#: Kubernetes Deployment). Module None: only the shared CommonSettings.
APP_SETTINGS_MODULES: Mapping[str, str] = {
    "api": "producer_api.settings",
    "civicqc-api": "producer_api.settings",
    "consumer": "consumer.settings",
    "civicqc-consumer": "consumer.settings",
}

#: Environment variables an app container may set that are read by a library rather than
#: a settings class, with the reason. Keep it short.
NON_SETTINGS_ENV: Mapping[str, str] = {
    "PROMETHEUS_MULTIPROC_DIR": "prometheus_client multiprocess mode (worker processes)",
}

#: Kinds validated against a CRD schema instead of kubernetes-validate.
CRD_KINDS = {"ScaledObject", "ServiceMonitor", "PrometheusRule", "KafkaTopic"}

#: Grafana variables substituted before a dashboard's PromQL is checked or run.
GRAFANA_VARIABLES: Mapping[str, str] = {
    "__rate_interval": "1m",
    "__interval": "15s",
    "__range": "1h",
    "tenant": ".*",
    "datasource": "civicqc-prometheus",
}


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one validator."""

    name: str
    #: What was validated, e.g. {"rules": 45} or {"resources": 17}.
    counts: Mapping[str, int]
    seconds: float
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        what = ", ".join(f"{n} {k}" for k, n in self.counts.items())
        status = "ok" if self.ok else f"FAILED ({len(self.problems)} problems)"
        return f"{self.name:<34} {status:<22} {what} [{self.seconds:.2f}s]"


@dataclass
class _Timer:
    started: float = field(default_factory=time.perf_counter)

    def result(
        self, name: str, counts: Mapping[str, int], problems: Iterable[str] = ()
    ) -> CheckResult:
        return CheckResult(name, dict(counts), time.perf_counter() - self.started, tuple(problems))


# ------------------------------------------------------------------------------- toolchain


@functools.cache
def versions() -> dict[str, str]:
    """The pinned toolchain versions from ``deploy/validate/versions.env``."""
    pairs = {}
    for line in (REPO / "deploy" / "validate" / "versions.env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, cwd=REPO, env={**os.environ, **env}, check=False
    )


def _venv_tool(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found: run deploy/validate/run.sh --tools")
    return found


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(CACHE / "bin"))
    if found is None:
        raise FileNotFoundError(f"{name} not found: run deploy/validate/run.sh --tools")
    return found


@functools.cache
def kustomize_command() -> list[str]:
    """``kubectl kustomize`` when kubectl has it, else the kustomize built by run.sh."""
    kubectl = shutil.which("kubectl")
    if kubectl and _run([kubectl, "kustomize", "--help"]).returncode == 0:
        return [kubectl, "kustomize"]
    return [_tool("kustomize"), "build"]


def grafana_version() -> str:
    """The Grafana release pinned in docker-compose.yml (``grafana/grafana:X.Y.Z``)."""
    image = load_compose()["services"]["grafana"]["image"]
    match = re.fullmatch(r"grafana/grafana:(\d+\.\d+\.\d+)", image)
    if match is None:
        raise ValueError(f"grafana image {image!r} is not pinned to an exact version")
    return match.group(1)


def dashboard_schema_path() -> Path:
    return CACHE / "schemas" / f"grafana-dashboard-{grafana_version()}.json"


def _module_dir(module_key: str) -> Path:
    v = versions()
    return CACHE / "gomod" / f"{v[module_key + '_MODULE']}@{v[module_key + '_VERSION']}"


def crd_files() -> dict[str, Path]:
    """CRD YAML by kind, as vendored in the pinned KEDA and Prometheus Operator modules."""
    keda = _module_dir("KEDA") / "config" / "crd" / "bases"
    operator = _module_dir("PROMETHEUS_OPERATOR") / "example" / "prometheus-operator-crd"
    return {
        "ScaledObject": keda / "keda.sh_scaledobjects.yaml",
        "ServiceMonitor": operator / "monitoring.coreos.com_servicemonitors.yaml",
        "PrometheusRule": operator / "monitoring.coreos.com_prometheusrules.yaml",
    }


# ------------------------------------------------------------------------------ Prometheus


def rule_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.rules.yml"))


def rule_groups() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for path in rule_files():
        groups.extend(yaml.safe_load(path.read_text())["groups"])
    return groups


def alerting_rules() -> list[dict[str, Any]]:
    return [rule for group in rule_groups() for rule in group["rules"] if "alert" in rule]


def check_rules() -> CheckResult:
    timer = _Timer()
    proc = _run([_tool("promtool"), "check", "rules", *map(str, rule_files())])
    rules = [rule for group in rule_groups() for rule in group["rules"]]
    problems = [] if proc.returncode == 0 else [proc.stdout + proc.stderr]
    counts = {
        "files": len(rule_files()),
        "recording rules": sum("record" in r for r in rules),
        "alerts": sum("alert" in r for r in rules),
    }
    return timer.result("promtool check rules", counts, problems)


def check_rule_tests() -> CheckResult:
    timer = _Timer()
    files = sorted(RULE_TESTS_DIR.glob("*.test.yml"))
    # promtool resolves rule_files relative to the test file's folder, so run from there
    proc = subprocess.run(
        [_tool("promtool"), "test", "rules", *(f.name for f in files)],
        capture_output=True,
        text=True,
        cwd=RULE_TESTS_DIR,
        check=False,
    )
    cases = sum(len(yaml.safe_load(f.read_text())["tests"]) for f in files)
    problems = [] if proc.returncode == 0 else [proc.stdout + proc.stderr]
    return timer.result("promtool test rules", {"files": len(files), "test cases": cases}, problems)


def check_prometheus_config() -> CheckResult:
    timer = _Timer()
    proc = _run([_tool("promtool"), "check", "config", "--syntax-only", str(PROMETHEUS_CONFIG)])
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    problems = [] if proc.returncode == 0 else [proc.stdout + proc.stderr]
    problems += [f"compose Prometheus has no scrape job {job!r}" for job in JOBS if job not in jobs]
    problems += compose_scrape_problems(config)
    return timer.result("promtool check config", {"scrape jobs": len(jobs)}, problems)


#: The compose service behind each scrape job.
_JOB_SERVICES = {"civicqc-api": "api", "civicqc-consumer": "consumer"}


def compose_scrape_problems(config: Mapping[str, Any]) -> list[str]:
    """Each job scrapes its service's METRICS_PORT, a port the host never publishes."""
    problems = []
    services = load_compose()["services"]
    for job in config["scrape_configs"]:
        service = services.get(_JOB_SERVICES.get(job["job_name"], ""))
        if service is None:
            continue
        metrics_port = str(service.get("environment", {}).get("METRICS_PORT"))
        for sd in job.get("dns_sd_configs", []):
            if str(sd.get("port")) != metrics_port:
                problems.append(
                    f"scrape job {job['job_name']}: port {sd.get('port')} is not the "
                    f"service's METRICS_PORT {metrics_port}"
                )
        published = [str(p).rsplit(":", 1)[-1] for p in service.get("ports", [])]
        if metrics_port in published:
            problems.append(f"compose publishes {job['job_name']}'s metrics port {metrics_port}")
    return problems


def metrics_port_problems(objects: list[dict[str, Any]]) -> list[str]:
    """Metrics have a port of their own: scraped there, never on the public ``http`` port."""
    problems = []
    configmaps = {o["metadata"]["name"]: o.get("data", {}) for o in _of_kind(objects, "ConfigMap")}
    for d in _of_kind(objects, "Deployment"):
        name = d["metadata"]["name"]
        ports = {
            p.get("name"): p.get("containerPort")
            for c in d["spec"]["template"]["spec"]["containers"]
            for p in c.get("ports", [])
        }
        declared = _container_env(d, configmaps).get("METRICS_PORT")
        if "metrics" not in ports:
            problems.append(f"Deployment/{name}: no container port named 'metrics'")
        elif str(ports["metrics"]) != str(declared):
            problems.append(
                f"Deployment/{name}: port 'metrics' is {ports['metrics']}, METRICS_PORT {declared}"
            )
    for sm in _of_kind(objects, "ServiceMonitor"):
        for endpoint in sm["spec"]["endpoints"]:
            if endpoint.get("port") != "metrics":
                problems.append(
                    f"ServiceMonitor/{sm['metadata']['name']}: scrapes port "
                    f"{endpoint.get('port')!r}, not the dedicated 'metrics' port"
                )
    return problems


def markdown_anchors(text: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    anchors = set()
    for line in text.splitlines():
        match = re.match(r"#{1,6}\s+(.*)", line)
        if match:
            slug = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower()).replace(" ", "-")
            anchors.add(slug)
    return anchors


def check_runbooks() -> CheckResult:
    """Every alert has severity, summary and a runbook_url that points into OPERATIONS.md."""
    timer = _Timer()
    anchors = markdown_anchors(OPERATIONS_DOC.read_text()) if OPERATIONS_DOC.exists() else set()
    problems = []
    alerts = alerting_rules()
    for rule in alerts:
        name, annotations = rule["alert"], rule.get("annotations", {})
        if rule.get("labels", {}).get("severity") not in {"critical", "warning", "info"}:
            problems.append(f"{name}: severity label missing or unknown")
        if not annotations.get("summary"):
            problems.append(f"{name}: no summary annotation")
        runbook = annotations.get("runbook_url", "")
        path, _, anchor = runbook.partition("#")
        if path != "docs/OPERATIONS.md" or anchor not in anchors:
            problems.append(f"{name}: runbook_url {runbook!r} is not a heading of {path or '?'}")
    return timer.result("alert runbooks", {"alerts": len(alerts)}, problems)


def prometheusrule_manifest() -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "civicqc"},
        "spec": {"groups": rule_groups()},
    }


def render_prometheusrule() -> str:
    header = (
        "# GENERATED from deploy/prometheus/rules/*.rules.yml: do not edit by hand.\n"
        "# Regenerate: .venv/bin/python -m tests.deploy.validators --write-prometheusrule\n"
        "# To tune thresholds per environment, patch the civicqc.thresholds group in an overlay.\n"
    )
    body = yaml.safe_dump(prometheusrule_manifest(), sort_keys=False, width=100)
    return header + body


def check_prometheusrule_in_sync() -> CheckResult:
    timer = _Timer()
    committed = yaml.safe_load(PROMETHEUSRULE_FILE.read_text())
    problems = []
    if committed != prometheusrule_manifest():
        problems.append(
            f"{PROMETHEUSRULE_FILE.relative_to(REPO)} differs from deploy/prometheus/rules: "
            "run python -m tests.deploy.validators --write-prometheusrule"
        )
    return timer.result("PrometheusRule == rule files", {"groups": len(rule_groups())}, problems)


# --------------------------------------------------------------------------------- Grafana


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel: str
    ref_id: str
    expr: str
    #: Core panels must return data on a live stack; marked "[core]" in their description.
    core: bool


def dashboard_files() -> list[Path]:
    return sorted(DASHBOARDS_DIR.glob("*.json"))


def _panels(panels: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def dashboard_queries(paths: Iterable[Path] | None = None) -> list[PanelQuery]:
    queries = []
    for path in dashboard_files() if paths is None else paths:
        dashboard = json.loads(path.read_text())
        for panel in _panels(dashboard.get("panels", [])):
            for target in panel.get("targets", []):
                queries.append(
                    PanelQuery(
                        dashboard=dashboard.get("uid", path.stem),
                        panel=panel.get("title", "?"),
                        ref_id=target.get("refId", "?"),
                        expr=target.get("expr", ""),
                        core="[core]" in panel.get("description", ""),
                    )
                )
    return queries


def substitute_grafana_variables(
    expr: str, variables: Mapping[str, str] = GRAFANA_VARIABLES
) -> str:
    """Replace ``$name``, ``${name}`` and ``[[name]]`` as Grafana does; unknown names fail."""

    def value(match: re.Match[str]) -> str:
        name = next(g for g in match.groups() if g)
        name = name.split(":")[0]  # ${tenant:regex} formats: the value is already a regex
        if name not in variables:
            raise KeyError(f"unknown Grafana variable ${name} in {expr!r}")
        return variables[name]

    return re.sub(r"\$\{(\w+(?::\w+)?)\}|\$(\w+)|\[\[(\w+)\]\]", value, expr)


def check_dashboards() -> CheckResult:
    """Each dashboard against the Grafana JSON schema, plus the provisioning contract."""
    timer = _Timer()
    schema = json.loads(dashboard_schema_path().read_text())
    validator = jsonschema.Draft7Validator(schema)
    datasource_uids = {
        ds["uid"]
        for path in DATASOURCES_DIR.glob("*.yml")
        for ds in yaml.safe_load(path.read_text()).get("datasources", [])
    }
    problems: list[str] = []
    panels = 0
    uids: set[str] = set()
    for path in dashboard_files():
        dashboard = json.loads(path.read_text())
        for error in validator.iter_errors(dashboard):
            where = "/".join(map(str, error.absolute_path))
            problems.append(f"{path.name}: {where}: {error.message[:300]}")
        uid = dashboard.get("uid")
        if not uid or uid in uids:
            problems.append(f"{path.name}: missing or duplicate uid {uid!r}")
        uids.add(uid)
        ids = [p.get("id") for p in _panels(dashboard.get("panels", []))]
        if len(ids) != len(set(ids)):
            problems.append(f"{path.name}: duplicate panel ids")
        for variable in dashboard.get("templating", {}).get("list", []):
            if (
                variable["type"] == "datasource"
                and variable.get("current", {}).get("value") not in datasource_uids
            ):
                problems.append(f"{path.name}: datasource variable defaults to an unknown uid")
        for panel in _panels(dashboard.get("panels", [])):
            if panel["type"] == "row":
                continue
            panels += 1
            if not panel.get("targets"):
                problems.append(f"{path.name}: panel {panel.get('title')!r} has no query")
    counts = {"dashboards": len(dashboard_files()), "panels": panels}
    return timer.result(f"dashboards vs Grafana {grafana_version()}", counts, problems)


def check_dashboard_promql() -> CheckResult:
    """Every panel query parses as PromQL (promtool, as recording rules), variables filled in."""
    timer = _Timer()
    queries = dashboard_queries()
    problems = []
    rules = []
    for i, query in enumerate(queries):
        try:
            expr = substitute_grafana_variables(query.expr)
        except KeyError as error:
            problems.append(f"{query.dashboard}/{query.panel}/{query.ref_id}: {error}")
            continue
        rules.append({"record": f"dashboard:query_{i}", "expr": expr})
    with tempfile.TemporaryDirectory() as tmp:
        rules_file = Path(tmp) / "dashboard-queries.yml"
        rules_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
        proc = _run([_tool("promtool"), "check", "rules", str(rules_file)])
    if proc.returncode != 0:
        problems.append(proc.stdout + proc.stderr)
    return timer.result("dashboard PromQL parses", {"queries": len(queries)}, problems)


def used_metric_names() -> set[str]:
    """civicqc_* metric names used by the rules and dashboards (histogram suffixes removed)."""
    exprs = [r["expr"] for g in rule_groups() for r in g["rules"]]
    exprs += [q.expr for q in dashboard_queries()]
    names = set()
    for expr in exprs:
        for name in re.findall(r"(?<![\w:])civicqc_[a-z_]+(?![\w:])", expr):
            names.add(re.sub(r"_(bucket|sum|count)$", "", name))
    return names


#: The metric contract with producer_api/metrics.py and consumer/metrics.py.
DECLARED_METRICS = frozenset(
    {
        "civicqc_api_requests_total",
        "civicqc_api_request_duration_seconds",
        "civicqc_api_upload_size_bytes",
        "civicqc_api_publish_failures_total",
        "civicqc_images_submitted_total",
        "civicqc_images_scored_total",
        "civicqc_check_failures_total",
        "civicqc_scoring_duration_seconds",
        "civicqc_end_to_end_latency_seconds",
        "civicqc_inflight_images",
        "civicqc_retries_total",
        "civicqc_dlq_messages_total",
        "civicqc_consumer_lag_messages",
        "civicqc_worker_pool_busy_workers",
        "civicqc_worker_pool_workers",
    }
)


#: The classes that define the services' metrics, each built on a fresh registry.
METRICS_CLASSES = ("producer_api.metrics:ApiMetrics", "consumer.metrics:ConsumerMetrics")


def exported_metric_names() -> tuple[set[str], list[str]]:
    """Metric names the services register, and the metrics classes that can't be imported yet.

    prometheus_client reports a counter's family name without ``_total``; it is added back.
    """
    from prometheus_client import CollectorRegistry

    names: set[str] = set()
    missing = []
    for spec in METRICS_CLASSES:
        module_name, _, class_name = spec.partition(":")
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):
            missing.append(spec)
            continue
        registry = CollectorRegistry()
        cls(registry=registry)
        for family in registry.collect():
            names.add(family.name + "_total" if family.type == "counter" else family.name)
    return names, missing


def check_metric_names() -> CheckResult:
    timer = _Timer()
    used = used_metric_names()
    problems = [
        f"{n} is used but not in the metric contract" for n in sorted(used - DECLARED_METRICS)
    ]
    exported, missing = exported_metric_names()
    if not missing:
        problems += [
            f"{n} is used but no metrics module defines it" for n in sorted(used - exported)
        ]
    counts = {"metrics used": len(used), "metrics classes not importable yet": len(missing)}
    return timer.result("metric names", counts, problems)


# ------------------------------------------------------------------------------- compose


@functools.cache
def load_compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return data


def required_compose_variables() -> set[str]:
    lines = [ln for ln in COMPOSE_FILE.read_text().splitlines() if not ln.lstrip().startswith("#")]
    return set(re.findall(r"\$\{(\w+):\?", "\n".join(lines)))


def check_compose_schema() -> CheckResult:
    timer = _Timer()
    proc = _run(
        [
            _venv_tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE_FILE),
        ]
    )
    problems = [] if proc.returncode == 0 else [proc.stdout + proc.stderr]
    return timer.result(
        "compose-spec JSON schema", {"services": len(load_compose()["services"])}, problems
    )


def check_compose_config() -> CheckResult:
    """``docker-compose config``: fails without the required secrets, passes with them."""
    timer = _Timer()
    problems = []
    required = required_compose_variables()
    base_env = {k: v for k, v in os.environ.items() if k not in required}
    dummy = {name: "validate-only-dummy" for name in required}
    # an empty --env-file: a developer's .env must not stand in for the missing secrets
    empty_env_file = tempfile.NamedTemporaryFile(suffix=".env")  # noqa: SIM115
    command = [
        _tool("docker-compose"),
        "--env-file",
        empty_env_file.name,
        "-f",
        str(COMPOSE_FILE),
        "config",
    ]
    ok = subprocess.run(
        command, capture_output=True, text=True, env={**base_env, **dummy}, cwd=REPO, check=False
    )
    if ok.returncode != 0:
        problems.append(ok.stdout + ok.stderr)
    else:
        resolved = yaml.safe_load(ok.stdout)
        consumer = resolved["services"]["consumer"]
        if consumer.get("deploy", {}).get("replicas") != 3:
            problems.append("consumer must run deploy.replicas: 3")
    for name in sorted(required):
        without = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env={**base_env, **{k: v for k, v in dummy.items() if k != name}},
            cwd=REPO,
            check=False,
        )
        if without.returncode == 0:
            problems.append(f"compose config passes without the secret {name}")
    empty_env_file.close()
    counts = {"services": len(load_compose()["services"]), "required secrets": len(required)}
    return timer.result("docker-compose config", counts, problems)


def compose_app_services() -> dict[str, dict[str, Any]]:
    """The services that run the civicqc image."""
    return {
        name: svc
        for name, svc in load_compose()["services"].items()
        if str(svc.get("image", "")).startswith("civicqc:")
    }


def compose_partitions() -> int:
    """The default partition count the init service gives the topics."""
    value = load_compose()["services"]["init-topics"]["environment"]["KAFKA_PARTITIONS"]
    match = re.fullmatch(r"\$\{KAFKA_PARTITIONS:-(\d+)\}", str(value))
    return int(match.group(1)) if match else int(value)


# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class SettingsEnv:
    """Environment variable names a container's settings classes declare."""

    names: frozenset[str]
    #: The settings classes read (module:Class).
    classes: tuple[str, ...]
    #: True while the service's own settings module can't be imported: only CommonSettings.
    common_only: bool


def _class_env_names(cls: type[Any]) -> set[str]:
    prefix = str(cls.model_config.get("env_prefix", ""))
    names = set()
    for name, info in cls.model_fields.items():
        aliases = [a for a in (info.validation_alias, info.alias) if isinstance(a, str)]
        for env_name in aliases or [prefix + name]:
            names.add(env_name.upper())
    return names


def settings_env(container: str) -> SettingsEnv:
    from pydantic_settings import BaseSettings

    from runtime.settings import CommonSettings

    classes: list[type[Any]] = [CommonSettings]
    module_name = APP_SETTINGS_MODULES.get(container)
    common_only = True
    if module_name is not None:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            module = None
        if module is not None:
            common_only = False
            classes += [
                value
                for value in vars(module).values()
                if isinstance(value, type)
                and issubclass(value, BaseSettings)
                and value.__module__ == module_name
            ]
    names: set[str] = set()
    for cls in classes:
        names |= _class_env_names(cls)
    labels = tuple(f"{c.__module__}:{c.__qualname__}" for c in classes)
    return SettingsEnv(frozenset(names), labels, common_only)


def _unknown_env(container: str, names: Iterable[str]) -> list[str]:
    declared = settings_env(container).names | NON_SETTINGS_ENV.keys()
    return [
        f"{container}: {name} is not declared by any settings class"
        for name in sorted(set(names) - declared)
    ]


def compose_env_names() -> dict[str, set[str]]:
    result = {}
    for name, svc in compose_app_services().items():
        env = svc.get("environment", {})
        keys = env.keys() if isinstance(env, dict) else (e.split("=", 1)[0] for e in env)
        result[name] = set(keys)
    return result


def k8s_env_names(objects: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Env names per Deployment: explicit env plus the keys of every envFrom ConfigMap."""
    configmaps = {
        o["metadata"]["name"]: o.get("data", {}) for o in objects if o["kind"] == "ConfigMap"
    }
    result: dict[str, set[str]] = {}
    for deployment in _of_kind(objects, "Deployment"):
        names: set[str] = set()
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            names |= {e["name"] for e in container.get("env", [])}
            for source in container.get("envFrom", []):
                ref = source.get("configMapRef", {}).get("name")
                names |= set(configmaps.get(ref, {}))
        result[deployment["metadata"]["name"]] = names
    return result


def check_env_names() -> CheckResult:
    """Every env name in compose and Kubernetes is declared by the container's settings."""
    timer = _Timer()
    problems = []
    checked = 0
    for service, names in compose_env_names().items():
        checked += len(names)
        problems += [f"compose {p}" for p in _unknown_env(service, names)]
    for overlay in OVERLAYS:
        for deployment, names in k8s_env_names(
            kustomize_build(K8S_DIR / "overlays" / overlay)
        ).items():
            checked += len(names)
            problems += [f"k8s/{overlay} {p}" for p in _unknown_env(deployment, names)]
    common_only = sorted(
        c for c in ("civicqc-api", "civicqc-consumer") if settings_env(c).common_only
    )
    counts = {"env names": checked, "services on CommonSettings only": len(common_only)}
    return timer.result("env names vs settings", counts, problems)


# ---------------------------------------------------------------------------- Kubernetes


@functools.cache
def _kustomize_build_text(path: Path) -> str:
    proc = _run([*kustomize_command(), str(path)])
    if proc.returncode != 0:
        raise RuntimeError(f"kustomize build {path} failed:\n{proc.stderr}")
    return proc.stdout


def kustomize_build(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(_kustomize_build_text(path)) if d]


def kustomize_build_with_component(overlay: str, component: Path) -> list[dict[str, Any]]:
    """An overlay plus an optional component, built from a throwaway kustomization."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "kustomization.yaml").write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "kustomize.config.k8s.io/v1beta1",
                    "kind": "Kustomization",
                    "resources": [os.path.relpath(K8S_DIR / "overlays" / overlay, root)],
                    "components": [os.path.relpath(component, root)],
                }
            )
        )
        proc = _run([*kustomize_command(), str(root)])
    if proc.returncode != 0:
        raise RuntimeError(f"kustomize build {overlay}+{component.name} failed:\n{proc.stderr}")
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def builds() -> dict[str, list[dict[str, Any]]]:
    """Every build CI checks: each overlay, and prod with the Strimzi topics component."""
    result = {overlay: kustomize_build(K8S_DIR / "overlays" / overlay) for overlay in OVERLAYS}
    result["prod+strimzi-topics"] = kustomize_build_with_component("prod", STRIMZI_COMPONENT)
    return result


def _of_kind(objects: Iterable[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o.get("kind") == kind]


def check_kustomize() -> CheckResult:
    timer = _Timer()
    problems = []
    counts: dict[str, int] = {}
    try:
        for name, objects in builds().items():
            counts[name] = len(objects)
    except RuntimeError as error:
        problems.append(str(error))
    tool = f"{Path(kustomize_command()[0]).name} {kustomize_command()[1]}"
    return timer.result(tool, {f"resources in {k}": n for k, n in counts.items()}, problems)


def check_kubernetes_validate() -> CheckResult:
    """Core resources against the Kubernetes OpenAPI schemas, strict (no unknown fields)."""
    import kubernetes_validate  # type: ignore[import-untyped]

    timer = _Timer()
    version = versions()["KUBERNETES_VERSION"]
    problems = []
    checked = 0
    for name, objects in builds().items():
        for obj in objects:
            if obj["kind"] in CRD_KINDS:
                continue
            checked += 1
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                problems.append(f"{name} {obj['kind']}/{obj['metadata']['name']}: {error.message}")
    return timer.result(f"kubernetes-validate {version} strict", {"resources": checked}, problems)


def _strict_openapi(schema: Any) -> Any:
    """A CRD's openAPIV3Schema as JSON Schema, with unknown fields rejected (like
    ``kubectl --validate=strict``) unless the CRD preserves them."""
    if isinstance(schema, list):
        return [_strict_openapi(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict_openapi(v) for k, v in schema.items()}
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    preserve = out.get("x-kubernetes-preserve-unknown-fields", False)
    if "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    return out


@functools.cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """JSON Schema by (apiVersion, kind) from the cached CRD YAML."""
    schemas = {}
    for kind, path in crd_files().items():
        crd = yaml.safe_load(path.read_text())
        group = crd["spec"]["group"]
        for version in crd["spec"]["versions"]:
            schema = _strict_openapi(version["schema"]["openAPIV3Schema"])
            # metadata is validated by the API server itself, not by the CRD
            schema.setdefault("properties", {})["metadata"] = {"type": "object"}
            schemas[(f"{group}/{version['name']}", kind)] = schema
    return schemas


def check_crds() -> CheckResult:
    timer = _Timer()
    schemas = crd_schemas()
    problems = []
    counts: dict[str, int] = {}
    for name, objects in builds().items():
        for obj in objects:
            if obj["kind"] not in CRD_KINDS or obj["kind"] == "KafkaTopic":
                continue
            schema = schemas.get((obj["apiVersion"], obj["kind"]))
            if schema is None:
                problems.append(f"{name}: no CRD schema for {obj['apiVersion']} {obj['kind']}")
                continue
            counts[obj["kind"]] = counts.get(obj["kind"], 0) + 1
            for error in jsonschema.Draft7Validator(schema).iter_errors(obj):
                where = "/".join(map(str, error.absolute_path))
                problems.append(
                    f"{name} {obj['kind']}/{obj['metadata']['name']}: {where}: {error.message[:300]}"
                )
    v = versions()
    title = f"CRDs (KEDA {v['KEDA_VERSION']}, prom-op {v['PROMETHEUS_OPERATOR_VERSION']})"
    return timer.result(title, counts, problems)


def _matches(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = deployment["spec"]["template"]["metadata"].get("labels", {})
    return labels


def _container_env(
    deployment: dict[str, Any], configmaps: Mapping[str, Mapping[str, str]]
) -> dict[str, str]:
    """Literal env of a Deployment's first container: envFrom ConfigMaps, then env values."""
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(configmaps.get(source.get("configMapRef", {}).get("name", ""), {}))
    env.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})
    return env


def cross_reference_problems(objects: list[dict[str, Any]]) -> list[str]:
    """Selectors, names and ports that must line up inside one build."""
    problems = []
    deployments = _of_kind(objects, "Deployment")
    services = _of_kind(objects, "Service")
    configmaps = {o["metadata"]["name"]: o.get("data", {}) for o in _of_kind(objects, "ConfigMap")}
    by_name = {d["metadata"]["name"]: d for d in deployments}

    def pods_selected(selector: Mapping[str, str]) -> list[str]:
        return [d["metadata"]["name"] for d in deployments if _matches(selector, _pod_labels(d))]

    for d in deployments:
        name = d["metadata"]["name"]
        if not _matches(d["spec"]["selector"]["matchLabels"], _pod_labels(d)):
            problems.append(f"Deployment/{name}: selector does not match its pod labels")
        pod = d["spec"]["template"]["spec"]
        if not pod.get("securityContext", {}).get("runAsNonRoot"):
            problems.append(f"Deployment/{name}: pod securityContext.runAsNonRoot is not true")
        if pod.get("securityContext", {}).get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"Deployment/{name}: seccompProfile is not RuntimeDefault")
        for c in pod["containers"]:
            where = f"Deployment/{name}/{c['name']}"
            sc = c.get("securityContext", {})
            if not sc.get("readOnlyRootFilesystem"):
                problems.append(f"{where}: root filesystem is writable")
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation is not false")
            if sc.get("capabilities", {}).get("drop") != ["ALL"]:
                problems.append(f"{where}: capabilities are not dropped (drop: [ALL])")
            for probe in ("livenessProbe", "readinessProbe"):
                if probe not in c:
                    problems.append(f"{where}: no {probe}")
            resources = c.get("resources", {})
            if not resources.get("requests", {}).get("cpu") or not resources.get("limits", {}).get(
                "memory"
            ):
                problems.append(f"{where}: needs cpu requests and memory limits")
            port_names = {p.get("name") for p in c.get("ports", [])}
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                port = c.get(probe, {}).get("httpGet", {}).get("port")
                if isinstance(port, str) and port not in port_names:
                    problems.append(f"{where}: {probe} uses unknown port {port!r}")
            for source in c.get("envFrom", []):
                ref = source.get("configMapRef", {}).get("name")
                if ref is not None and ref not in configmaps:
                    problems.append(f"{where}: envFrom ConfigMap {ref!r} is not in the build")
            for env in c.get("env", []):
                secret = env.get("valueFrom", {}).get("secretKeyRef")
                if secret and secret.get("key") != env["name"]:
                    problems.append(
                        f"{where}: secret key {secret.get('key')!r} should be named {env['name']!r}"
                    )
        if "replicas" in d["spec"]:
            problems.append(f"Deployment/{name}: replicas is set; the autoscaler owns it")

    for s in services:
        name = s["metadata"]["name"]
        targets = pods_selected(s["spec"].get("selector", {}))
        if not targets:
            problems.append(f"Service/{name}: selector matches no Deployment")
        for port in s["spec"]["ports"]:
            target = port.get("targetPort")
            for t in targets:
                names = {
                    p.get("name")
                    for c in by_name[t]["spec"]["template"]["spec"]["containers"]
                    for p in c.get("ports", [])
                }
                if isinstance(target, str) and target not in names:
                    problems.append(f"Service/{name}: targetPort {target!r} not a port of {t}")
    if sorted(s["metadata"]["name"] for s in services) != sorted(JOBS):
        problems.append(f"Services must be named after the Prometheus jobs {JOBS}")

    for kind in ("PodDisruptionBudget", "NetworkPolicy"):
        for o in _of_kind(objects, kind):
            selector = (o["spec"].get("selector") or o["spec"].get("podSelector") or {}).get(
                "matchLabels", {}
            )
            if not pods_selected(selector):
                problems.append(f"{kind}/{o['metadata']['name']}: selector matches no Deployment")
    for sm in _of_kind(objects, "ServiceMonitor"):
        name = sm["metadata"]["name"]
        matched = [
            s
            for s in services
            if _matches(sm["spec"]["selector"]["matchLabels"], s["metadata"].get("labels", {}))
        ]
        if not matched:
            problems.append(f"ServiceMonitor/{name}: selector matches no Service")
        for endpoint in sm["spec"]["endpoints"]:
            for s in matched:
                if endpoint.get("port") not in {p.get("name") for p in s["spec"]["ports"]}:
                    problems.append(
                        f"ServiceMonitor/{name}: port {endpoint.get('port')!r} not on Service/{s['metadata']['name']}"
                    )

    hpa_targets = {
        h["spec"]["scaleTargetRef"]["name"] for h in _of_kind(objects, "HorizontalPodAutoscaler")
    }
    for target in hpa_targets - by_name.keys():
        problems.append(f"HorizontalPodAutoscaler targets missing Deployment {target!r}")
    topics = {
        t["metadata"]["name"]: t["spec"]["partitions"] for t in _of_kind(objects, "KafkaTopic")
    }
    for so in _of_kind(objects, "ScaledObject"):
        name = so["metadata"]["name"]
        target = so["spec"]["scaleTargetRef"]["name"]
        if target not in by_name:
            problems.append(f"ScaledObject/{name}: scaleTargetRef {target!r} does not exist")
        if target in hpa_targets:
            problems.append(f"ScaledObject/{name}: {target} is also scaled by an HPA")
        config = _container_env(by_name[target], configmaps) if target in by_name else {}
        for trigger in so["spec"]["triggers"]:
            meta = trigger["metadata"]
            if meta.get("topic") != config.get("TOPIC_SUBMITTED"):
                problems.append(f"ScaledObject/{name}: topic differs from TOPIC_SUBMITTED")
            if meta.get("bootstrapServers") != config.get("KAFKA_BOOTSTRAP_SERVERS"):
                problems.append(
                    f"ScaledObject/{name}: bootstrapServers differs from KAFKA_BOOTSTRAP_SERVERS"
                )
            if meta.get("consumerGroup") != config.get("CONSUMER_GROUP"):
                problems.append(f"ScaledObject/{name}: consumerGroup differs from CONSUMER_GROUP")
            partitions = topics.get(meta.get("topic", ""))
            if partitions is not None and partitions < so["spec"]["maxReplicaCount"]:
                problems.append(f"ScaledObject/{name}: maxReplicaCount > {partitions} partitions")
    return problems


def check_cross_references() -> CheckResult:
    timer = _Timer()
    problems = []
    checked = 0
    for name, objects in builds().items():
        checked += len(objects)
        problems += [f"{name}: {p}" for p in cross_reference_problems(objects)]
        problems += [f"{name}: {p}" for p in metrics_port_problems(objects)]
    # compose: enough partitions for the consumer replicas
    replicas = load_compose()["services"]["consumer"]["deploy"]["replicas"]
    if compose_partitions() < replicas:
        problems.append(
            f"compose: {compose_partitions()} partitions < {replicas} consumer replicas"
        )
    return timer.result("cross-references", {"resources": checked}, problems)


# ------------------------------------------------------------------------------ runner

CHECKS: tuple[Callable[[], CheckResult], ...] = (
    check_rules,
    check_rule_tests,
    check_prometheus_config,
    check_runbooks,
    check_prometheusrule_in_sync,
    check_dashboards,
    check_dashboard_promql,
    check_metric_names,
    check_compose_schema,
    check_compose_config,
    check_kustomize,
    check_kubernetes_validate,
    check_crds,
    check_cross_references,
    check_env_names,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-prometheusrule", action="store_true")
    args = parser.parse_args(argv)
    if args.write_prometheusrule:
        PROMETHEUSRULE_FILE.write_text(render_prometheusrule())
        print(f"wrote {PROMETHEUSRULE_FILE.relative_to(REPO)}")
        return 0
    started = time.perf_counter()
    failed = 0
    for check in CHECKS:
        try:
            result = check()
        except (FileNotFoundError, RuntimeError, ValueError, KeyError) as error:
            result = CheckResult(check.__name__, {}, 0.0, (f"{type(error).__name__}: {error}",))
        print(result.summary(), flush=True)
        for problem in result.problems:
            print(f"    - {problem}")
        failed += not result.ok
    passed = len(CHECKS) - failed
    print(f"validate: {passed} passed, {failed} failed in {time.perf_counter() - started:.1f}s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
