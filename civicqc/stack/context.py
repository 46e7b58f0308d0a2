"""The shared vocabulary of the local stack: folders, ports, endpoints, service definitions.

The same :class:`ServiceDefinition` objects serve ``civicqc stack up`` (fixed ports,
``.stack/`` folder) and the pytest fixtures (ephemeral ports, a per-session temp
folder); only the :class:`StackContext` differs. That is why nothing in a service
module reads a port or a path from anywhere but the context.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from civicqc.stack.process import ProcessSpec

#: The settings every service of the product reads (one name, everywhere).
ENV_NAMES: tuple[str, ...] = (
    "KAFKA_BOOTSTRAP_SERVERS",
    "S3_ENDPOINT",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "S3_SECURE",
    "S3_BUCKET",
    "PROMETHEUS_URL",
    "API_URL",
)
DEFAULT_BUCKET = "civicqc-images"
LOOPBACK = "127.0.0.1"


def repo_root() -> Path:
    """The source checkout this package runs from (where ``deploy/local`` lives)."""
    return Path(__file__).resolve().parents[2]


def deploy_dir() -> Path:
    path = repo_root() / "deploy" / "local"
    if not path.is_dir():
        raise FileNotFoundError(
            f"{path} not found: the local stack runs from a source checkout of civicqc"
        )
    return path


def free_port(host: str = LOOPBACK) -> int:
    """A port the kernel just handed out as free (ephemeral range, so a fixed-port
    ``stack up`` and concurrent pytest sessions do not collide)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_in_use(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@dataclass(frozen=True)
class StackLayout:
    """Where one stack keeps its data, logs, pidfiles, generated config and secrets."""

    root: Path

    def data(self, service: str) -> Path:
        return self.root / "data" / service

    def logs(self, service: str) -> Path:
        return self.root / "logs" / service

    def log_file(self, service: str) -> Path:
        return self.root / "logs" / f"{service}.log"

    def pid_file(self, service: str) -> Path:
        return self.root / "run" / f"{service}.pid"

    def config(self, service: str) -> Path:
        return self.root / "config" / service

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    @property
    def env_file(self) -> Path:
        return self.root / "stack.env"


@dataclass
class StackContext:
    """What service definitions see: the folder, the ports, and what is already up.

    ``env`` fills up as services start (Kafka first), so a later service (the API,
    consumers) gets the endpoints of the earlier ones from it.
    """

    layout: StackLayout
    ports: dict[str, int]
    env: dict[str, str] = field(default_factory=dict)
    #: Test fixtures set this so children die with the pytest process.
    die_with_parent: bool = False

    def port(self, name: str) -> int:
        """The port named ``name``; picked free on first use when not configured.

        Each probe socket is closed before the next, so the kernel may hand the same
        port out twice; two names on one port made SeaweedFS's filer win the S3 port
        (a CI failure), so a port already given to another name is never reused.
        """
        if name not in self.ports:
            taken = set(self.ports.values())
            port = free_port()
            while port in taken:
                port = free_port()
            self.ports[name] = port
        return self.ports[name]


@dataclass(frozen=True)
class ServiceDefinition:
    """How to run one service of the stack; the extension point for new services.

    - ``spec`` builds the process to supervise from the context;
    - ``prepare`` runs once before each start (format storage, write config);
    - ``after_start`` runs once it is healthy (create topics, buckets);
    - ``env`` returns the settings it publishes (into ``stack.env`` and ``ctx.env``);
    - ``scrape_targets`` are its Prometheus ``/metrics`` endpoints, as ``host:port``,
      scraped under the job label ``scrape_job`` (default: its name; the dashboards and
      rules expect ``civicqc-api`` and ``civicqc-consumer``).
    """

    name: str
    spec: Callable[[StackContext], ProcessSpec]
    #: Names of the ports it listens on (keys of ``StackContext.ports``), checked
    #: free before it starts.
    ports: tuple[str, ...] = ()
    env: Callable[[StackContext], Mapping[str, str]] = lambda _ctx: {}
    prepare: Callable[[StackContext], None] | None = None
    after_start: Callable[[StackContext], None] | None = None
    scrape_targets: Callable[[StackContext], Iterable[str]] = lambda _ctx: ()
    scrape_job: str | None = None
