"""The application's own processes (ingest API, consumer replicas) as stack services.

:func:`civicqc.stack.local_stack.default_services` lists ``api_service()`` and
``*consumer_services(2)`` after the infrastructure; each gets the endpoints of the
services started before it through its environment.

The API runs with authentication on, as in production. Before its first start the
stack writes a keys file (``secrets/api-keys.json``, the format of
:mod:`runtime.apikeys`) with one operator key, keeps that key (0600) in
``secrets/api-key`` and publishes it as ``CIVICQC_API_KEY`` in ``stack.env`` and
``civicqc stack status --json``, so a curl upload works out of the box.
"""

from __future__ import annotations

import sys
from pathlib import Path

from civicqc.stack.context import LOOPBACK, ServiceDefinition, StackContext, repo_root
from civicqc.stack.private_files import write_private_text
from civicqc.stack.process import ProcessError, ProcessSpec, http_ok
from runtime.apikeys import (
    ALL_TENANTS,
    KeyRole,
    KeysFileError,
    key_id,
    matches,
    new_key,
    read_keys,
    write_keys,
)

#: The stack's operator key, for clients (curl, bench/pipeline.py); never a service setting.
API_KEY_ENV = "CIVICQC_API_KEY"
#: Scrape job names the dashboards and rules use (deploy/prometheus/rules).
API_JOB = "civicqc-api"
CONSUMER_JOB = "civicqc-consumer"
#: A local operator key; generous so load tests on the laptop are not throttled.
_LOCAL_KEY_RATE_PER_S = 100.0
_LOCAL_KEY_BURST = 200


def api_url(ctx: StackContext) -> str:
    return f"http://{LOOPBACK}:{ctx.port('api')}"


def api_keys_file(ctx: StackContext) -> Path:
    """The API's ``API_KEYS_FILE``: hashes only, manage it with ``civicqc keys --file``."""
    return ctx.layout.secrets / "api-keys.json"


def _operator_key_file(ctx: StackContext) -> Path:
    return ctx.layout.secrets / "api-key"


def operator_key(ctx: StackContext) -> str | None:
    """The stack's operator key, or None before the API's first start."""
    try:
        key = _operator_key_file(ctx).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return key or None


def ensure_operator_key(ctx: StackContext) -> str:
    """The stack's operator key, created on first use and kept across ``up``/``down``.

    A key that is no longer in the keys file (revoked with ``civicqc keys revoke``) is
    replaced by a new one; other keys in the file are left alone.
    """
    path = api_keys_file(ctx)
    keys = read_keys(path)
    current = operator_key(ctx)
    if current is not None:
        ident = key_id(current)
        if any(r.id == ident and matches(r, current) for r in keys.keys):
            return current
    key, record = new_key(
        ALL_TENANTS,
        KeyRole.OPERATOR,
        name="civicqc stack (local operator)",
        rate_per_s=_LOCAL_KEY_RATE_PER_S,
        burst=_LOCAL_KEY_BURST,
    )
    ctx.layout.secrets.mkdir(parents=True, exist_ok=True)
    ctx.layout.secrets.chmod(0o700)
    write_keys(path, keys.model_copy(update={"keys": [*keys.keys, record]}))
    key_file = _operator_key_file(ctx)
    write_private_text(key_file, key + "\n")
    return key


def _service_env(ctx: StackContext) -> dict[str, str]:
    """What the stack published so far, less the client key (no service reads it)."""
    return {name: value for name, value in ctx.env.items() if name != API_KEY_ENV}


def _api_env(ctx: StackContext) -> dict[str, str]:
    env = {"API_URL": api_url(ctx)}
    if (key := operator_key(ctx)) is not None:
        env[API_KEY_ENV] = key
    return env


def api_service() -> ServiceDefinition:
    """uvicorn ``producer_api.main:app``, healthy once ``/healthz`` answers.

    Authentication is on (``AUTH_ENABLED=true`` whatever the caller's environment
    says) with the stack's keys file; ``prepare`` creates the operator key.
    """

    def spec(ctx: StackContext) -> ProcessSpec:
        return ProcessSpec(
            name="api",
            argv=[
                sys.executable,
                "-m",
                "uvicorn",
                "producer_api.main:app",
                "--host",
                LOOPBACK,
                "--port",
                str(ctx.port("api")),
            ],
            env={
                **_service_env(ctx),
                "AUTH_ENABLED": "true",
                "API_KEYS_FILE": str(api_keys_file(ctx)),
                "METRICS_PORT": str(ctx.port("api_metrics")),
            },
            cwd=repo_root(),
            log_file=ctx.layout.log_file("api"),
            pid_file=ctx.layout.pid_file("api"),
            health=http_ok(f"{api_url(ctx)}/healthz"),
            die_with_parent=ctx.die_with_parent,
        )

    def prepare(ctx: StackContext) -> None:
        try:
            ensure_operator_key(ctx)
        except KeysFileError as error:
            raise ProcessError(f"api: {error}") from error

    return ServiceDefinition(
        name="api",
        spec=spec,
        ports=("api", "api_metrics"),
        env=_api_env,
        prepare=prepare,
        scrape_targets=lambda ctx: [f"{LOOPBACK}:{ctx.port('api_metrics')}"],
        scrape_job=API_JOB,
    )


def consumer_services(replicas: int) -> list[ServiceDefinition]:
    """``python -m consumer`` replicas ``consumer-1`` .. ``consumer-N``.

    Each gets a ``METRICS_PORT`` of its own, registered as a Prometheus target.
    """

    def definition(index: int) -> ServiceDefinition:
        name = f"consumer-{index}"

        def spec(ctx: StackContext) -> ProcessSpec:
            return ProcessSpec(
                name=name,
                argv=[sys.executable, "-m", "consumer"],
                env={**_service_env(ctx), "METRICS_PORT": str(ctx.port(f"{name}_metrics"))},
                cwd=repo_root(),
                log_file=ctx.layout.log_file(name),
                pid_file=ctx.layout.pid_file(name),
                health=http_ok(f"http://{LOOPBACK}:{ctx.port(f'{name}_metrics')}/metrics"),
                die_with_parent=ctx.die_with_parent,
            )

        return ServiceDefinition(
            name=name,
            spec=spec,
            scrape_targets=lambda ctx: [f"{LOOPBACK}:{ctx.port(f'{name}_metrics')}"],
            scrape_job=CONSUMER_JOB,
        )

    return [definition(index) for index in range(1, replicas + 1)]
