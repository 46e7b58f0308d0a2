"""Prometheus from Debian's package, scraping whatever registers a target file.

It loads the project's recording and alerting rules (``deploy/prometheus/rules``,
the files compose and Kubernetes use), so recording rules run on the stack's live
metrics and the dashboards that read them show data.

Targets are file-based service discovery (``<config>/prometheus/targets/<job>.json``):
:func:`register_target` drops a file and Prometheus picks it up within seconds, no
restart, which is how the API and consumer replicas will join a running stack and
how the tests add a throwaway exporter.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from string import Template
from typing import Any

from civicqc.stack.context import (
    LOOPBACK,
    ServiceDefinition,
    StackContext,
    deploy_dir,
    repo_root,
)
from civicqc.stack.install import prometheus_binary
from civicqc.stack.process import ProcessSpec

NAME = "prometheus"
SCRAPE_INTERVAL = "2s"


def url(ctx: StackContext) -> str:
    return f"http://{LOOPBACK}:{ctx.port('prometheus')}"


def targets_dir(ctx: StackContext) -> Path:
    return ctx.layout.config(NAME) / "targets"


def register_target(
    directory: Path,
    job: str,
    targets: Iterable[str],
    metrics_path: str = "/metrics",
    file_name: str | None = None,
) -> Path:
    """Make Prometheus scrape ``host:port`` targets under the job label ``job``.

    The target file is ``<file_name or job>.json``: replicas of one job (``consumer-1``,
    ``consumer-2`` as ``civicqc-consumer``) each keep a file of their own.
    """
    directory.mkdir(parents=True, exist_ok=True)
    entry = [{"targets": list(targets), "labels": {"job": job, "__metrics_path__": metrics_path}}]
    path = directory / f"{file_name or job}.json"
    staging = path.with_suffix(".tmp")  # not *.json: Prometheus must never read half a file
    staging.write_text(json.dumps(entry), encoding="utf-8")
    staging.replace(path)
    return path


def unregister_target(directory: Path, file_name: str) -> None:
    """Remove a target file written by :func:`register_target` (its ``file_name or job``)."""
    (directory / f"{file_name}.json").unlink(missing_ok=True)


def rules_dir() -> Path:
    """The project's recording and alerting rules (``deploy/prometheus/rules``)."""
    return repo_root() / "deploy" / "prometheus" / "rules"


def _get(address: str, timeout_s: float = 2.0) -> bytes:
    with urllib.request.urlopen(address, timeout=timeout_s) as response:  # noqa: S310
        body: bytes = response.read()
        return body


def ready(base_url: str) -> bool:
    try:
        _get(f"{base_url}/-/ready")
    except (urllib.error.URLError, OSError):
        return False
    return True


def query(base_url: str, promql: str) -> list[dict[str, Any]]:
    """Instant-query results (``data.result``) of a PromQL expression."""
    body = _get(f"{base_url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}")
    payload = json.loads(body)
    if payload.get("status") != "success":
        raise RuntimeError(f"prometheus query {promql!r} failed: {payload}")
    result: list[dict[str, Any]] = payload["data"]["result"]
    return result


def prepare(ctx: StackContext) -> None:
    template = Template((deploy_dir() / "prometheus.yml.template").read_text(encoding="utf-8"))
    config = ctx.layout.config(NAME) / "prometheus.yml"
    config.parent.mkdir(parents=True, exist_ok=True)
    targets_dir(ctx).mkdir(parents=True, exist_ok=True)
    config.write_text(
        template.substitute(
            scrape_interval=SCRAPE_INTERVAL,
            scrape_timeout=SCRAPE_INTERVAL,
            self_address=f"{LOOPBACK}:{ctx.port('prometheus')}",
            targets_dir=str(targets_dir(ctx)),
            rule_files=str(rules_dir() / "*.rules.yml"),
        ),
        encoding="utf-8",
    )


def spec(ctx: StackContext) -> ProcessSpec:
    base = url(ctx)
    data = ctx.layout.data(NAME)
    data.mkdir(parents=True, exist_ok=True)
    return ProcessSpec(
        name=NAME,
        argv=[
            prometheus_binary(),
            f"--config.file={ctx.layout.config(NAME) / 'prometheus.yml'}",
            f"--storage.tsdb.path={data}",
            "--storage.tsdb.retention.time=2d",
            f"--web.listen-address={LOOPBACK}:{ctx.port('prometheus')}",
            "--web.enable-lifecycle",
        ],
        log_file=ctx.layout.log_file(NAME),
        pid_file=ctx.layout.pid_file(NAME),
        cwd=data,
        health=lambda: ready(base),
        start_timeout_s=30.0,
        stop_timeout_s=15.0,
        die_with_parent=ctx.die_with_parent,
    )


def _env(ctx: StackContext) -> dict[str, str]:
    return {"PROMETHEUS_URL": url(ctx)}


def service() -> ServiceDefinition:
    return ServiceDefinition(name=NAME, spec=spec, ports=("prometheus",), env=_env, prepare=prepare)
