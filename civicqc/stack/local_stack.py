"""Brings a list of :class:`ServiceDefinition` up in order, and down in reverse.

State lives in the stack folder, not in this process: ``stack.json`` keeps the ports,
``run/*.pid`` the processes, ``stack.env`` the settings, so ``up``, ``status`` and
``down`` can be separate commands, and a second ``up`` only starts what is not
running.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from civicqc.stack import app, kafka, object_store, prometheus
from civicqc.stack.context import (
    ServiceDefinition,
    StackContext,
    StackLayout,
    port_in_use,
)
from civicqc.stack.private_files import write_private_text
from civicqc.stack.process import PidRecord, ProcessError, SupervisedProcess, is_alive

DEFAULT_PORTS: Mapping[str, int] = {
    "kafka": 9092,
    "kafka_controller": 9093,
    "s3": 8333,
    "s3_grpc": 18333,
    "s3_master": 9333,
    "s3_master_grpc": 19333,
    "s3_volume": 8080,
    "s3_volume_grpc": 18080,
    "s3_filer": 8888,
    "s3_filer_grpc": 18888,
    "prometheus": 9090,
    "api": 8000,
}


def default_services() -> list[ServiceDefinition]:
    """The services ``civicqc stack up`` runs, in start order.

    Infrastructure first; the API and the consumer replicas then read its endpoints
    from ``ctx.env``.
    """
    return [
        kafka.service(),
        object_store.service(),
        prometheus.service(),
        app.api_service(),
        *app.consumer_services(2),
    ]


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    pid: int | None
    running: bool
    healthy: bool
    rss_bytes: int
    log_file: Path


class LocalStack:
    def __init__(
        self,
        root: Path,
        services: Sequence[ServiceDefinition] | None = None,
        ports: Mapping[str, int] | None = None,
        default_ports: bool = True,
        die_with_parent: bool = False,
    ) -> None:
        """``default_ports=False`` gives every unnamed port a free ephemeral one (tests)."""
        self.layout = StackLayout(root)
        self.services = list(services if services is not None else default_services())
        base = DEFAULT_PORTS if default_ports else {}
        merged = {**base, **self._saved_ports(), **(ports or {})}
        self.ctx = StackContext(self.layout, merged, die_with_parent=die_with_parent)
        self._processes: dict[str, SupervisedProcess] = {}

    @property
    def _state_file(self) -> Path:
        return self.layout.root / "stack.json"

    def _saved_ports(self) -> dict[str, int]:
        try:
            saved: dict[str, int] = json.loads(self._state_file.read_text(encoding="utf-8"))[
                "ports"
            ]
        except (OSError, ValueError, KeyError):
            return {}
        return saved

    def service(self, name: str) -> ServiceDefinition:
        for definition in self.services:
            if definition.name == name:
                return definition
        raise KeyError(f"no service {name!r}; known: {[s.name for s in self.services]}")

    def process(self, name: str) -> SupervisedProcess:
        """The supervised process of a service (spec built on first use)."""
        if name not in self._processes:
            self._processes[name] = SupervisedProcess(self.service(name).spec(self.ctx))
        return self._processes[name]

    def _record(self, name: str) -> PidRecord | None:
        return PidRecord.from_file(self.layout.pid_file(name))

    def is_running(self, name: str) -> bool:
        record = self._record(name)
        return record is not None and is_alive(record)

    def start_service(self, name: str, say: Callable[[str], None] = print) -> float:
        """Start one service if it is not running; returns seconds until healthy."""
        definition = self.service(name)
        if self.is_running(name):
            self.ctx.env.update(definition.env(self.ctx))
            return 0.0
        if definition.prepare is not None:
            definition.prepare(self.ctx)
        busy = [port for port in definition.ports if port_in_use(self.ctx.port(port))]
        if busy:
            ports = ", ".join(f"{p}={self.ctx.port(p)}" for p in busy)
            raise ProcessError(f"{name}: port already in use by another program: {ports}")
        proc = self.process(name)
        took = proc.start()
        if definition.after_start is not None:
            definition.after_start(self.ctx)
        self.ctx.env.update(definition.env(self.ctx))
        targets = list(definition.scrape_targets(self.ctx))
        if targets:
            prometheus.register_target(
                prometheus.targets_dir(self.ctx),
                definition.scrape_job or name,
                targets,
                file_name=name,
            )
        say(f"{name}: healthy in {took:.1f}s (pid {proc.record.pid if proc.record else '?'})")
        return took

    def stop_service(self, name: str) -> bool:
        """Stop one service if this stack folder started it; True if it was running."""
        record = self._record(name)
        if record is None:
            return False
        if not is_alive(record):
            self.layout.pid_file(name).unlink(missing_ok=True)
            return False
        return self.process(name).stop()

    def up(self, say: Callable[[str], None] = print) -> dict[str, float]:
        """Start every service not yet running, in order; write ``stack.env``."""
        self.layout.root.mkdir(parents=True, exist_ok=True)
        self._save_ports()
        timings: dict[str, float] = {}
        for definition in self.services:
            timings[definition.name] = self.start_service(definition.name, say)
            # Ports picked while starting (a consumer's metrics port) must be found
            # again by ``status`` and ``down``, which are other processes.
            self._save_ports()
        self.write_env_file()
        return timings

    def _save_ports(self) -> None:
        self._state_file.write_text(json.dumps({"ports": self.ctx.ports}, indent=2), "utf-8")

    def down(self, say: Callable[[str], None] = print) -> list[str]:
        """Stop, in reverse order, every service this stack folder started."""
        stopped = []
        for definition in reversed(self.services):
            if self.stop_service(definition.name):
                say(f"{definition.name}: stopped")
                stopped.append(definition.name)
        return stopped

    def env(self) -> dict[str, str]:
        """The settings the services publish (what ``stack.env`` holds)."""
        values: dict[str, str] = {}
        for definition in self.services:
            values.update(definition.env(self.ctx))
        return values

    def write_env_file(self) -> Path:
        path = self.layout.env_file
        lines = [f"{key}={value}" for key, value in sorted(self.env().items())]
        write_private_text(path, "\n".join(lines) + "\n")
        return path

    def status(self) -> list[ServiceStatus]:
        result = []
        for definition in self.services:
            record = self._record(definition.name)
            running = record is not None and is_alive(record)
            healthy = False
            rss = 0
            if running:
                proc = self.process(definition.name)
                healthy = proc.healthy()
                rss = proc.rss_bytes()
            result.append(
                ServiceStatus(
                    name=definition.name,
                    pid=record.pid if record is not None and running else None,
                    running=running,
                    healthy=healthy,
                    rss_bytes=rss,
                    log_file=self.layout.log_file(definition.name),
                )
            )
        return result
