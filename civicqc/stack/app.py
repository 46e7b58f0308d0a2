"""The application's own processes (ingest API, consumer replicas) as stack services.

:func:`civicqc.stack.local_stack.default_services` lists ``api_service()`` and
``*consumer_services(2)`` after the infrastructure; each gets the endpoints of the
services started before it through its environment.
"""

from __future__ import annotations

import sys

from civicqc.stack.context import LOOPBACK, ServiceDefinition, StackContext, repo_root
from civicqc.stack.process import ProcessSpec, http_ok


def api_url(ctx: StackContext) -> str:
    return f"http://{LOOPBACK}:{ctx.port('api')}"


def api_service() -> ServiceDefinition:
    """uvicorn ``producer_api.main:app``, healthy once ``/healthz`` answers."""

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
            env=dict(ctx.env),
            cwd=repo_root(),
            log_file=ctx.layout.log_file("api"),
            pid_file=ctx.layout.pid_file("api"),
            health=http_ok(f"{api_url(ctx)}/healthz"),
            die_with_parent=ctx.die_with_parent,
        )

    return ServiceDefinition(
        name="api",
        spec=spec,
        ports=("api",),
        env=lambda ctx: {"API_URL": api_url(ctx)},
        scrape_targets=lambda ctx: [f"{LOOPBACK}:{ctx.port('api')}"],
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
                env={**ctx.env, "METRICS_PORT": str(ctx.port(f"{name}_metrics"))},
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
        )

    return [definition(index) for index in range(1, replicas + 1)]
