"""The container engine the image was built with (Docker or podman), driven by tests.

``deploy/image/verify.sh env`` names the engine, the image and podman's config; the
containers run as a deployment runs them: read-only root filesystem, a tmpfs on
/tmp, no capabilities, no privilege escalation, the image's user. They share the host's
network so that they reach the session's Kafka and S3 on 127.0.0.1, and they bind
127.0.0.1 only.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VERIFY = REPO / "deploy" / "image" / "verify.sh"


class EngineError(RuntimeError):
    pass


@dataclass(frozen=True)
class Engine:
    command: str  # docker | podman
    image: str
    env: Mapping[str, str]
    #: The compose command (podman-compose, or docker compose); empty where there is none.
    compose: tuple[str, ...] = ()

    @classmethod
    def from_verify_script(cls) -> Engine:
        out = subprocess.run(
            ["bash", str(VERIFY), "env"], capture_output=True, text=True, check=True, timeout=60
        ).stdout
        values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        conf = values.get("CONTAINERS_CONF", "")
        env = {"CONTAINERS_CONF": conf} if conf else {}
        compose = tuple(shlex.split(values.get("COMPOSE", "")))
        return cls(values["ENGINE"], values["IMAGE"], env, compose)

    def call(self, *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.command, *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )

    def run(self, *args: str, timeout_s: float = 120) -> str:
        done = self.call(*args, timeout_s=timeout_s)
        if done.returncode != 0:
            raise EngineError(f"{self.command} {args[0]} exited {done.returncode}: {done.stderr}")
        return done.stdout.strip()

    def call_compose(
        self, args: Sequence[str], *, env: Mapping[str, str], cwd: Path, timeout_s: float = 300
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.compose, *args],
            env=dict(env),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )

    def compose_container(self, project: str, service: str) -> Container:
        """The one container of a compose service (by the labels both composes set)."""
        names = self.run(
            "ps",
            "--all",
            "--filter",
            f"label=com.docker.compose.project={project}",
            "--filter",
            f"label=com.docker.compose.service={service}",
            "--format",
            "{{.Names}}",
        ).split()
        if len(names) != 1:
            raise EngineError(f"{project}/{service}: containers {names}")
        return Container(self, names[0])

    def start(
        self,
        name: str,
        command: Sequence[str],
        *,
        env_file: Path,
        health_cmd: str,
        volumes: Sequence[str] = (),
    ) -> Container:
        """Start a detached container with the flags of docker-compose.yml's services."""
        # podman on a host without systemd has no timer for healthchecks: the test runs
        # them (`podman healthcheck run`); Docker's daemon runs them itself.
        schedule = ["--health-interval", "disable"] if self.command == "podman" else []
        if self.command == "docker":
            schedule = ["--health-interval", "2s", "--health-start-period", "60s"]
        mounts = [arg for volume in volumes for arg in ("--volume", volume)]
        self.run(
            "run",
            "--detach",
            "--name",
            name,
            "--network",
            "host",
            "--read-only",
            "--tmpfs",
            "/tmp",
            "--cap-drop",
            "ALL",
            "--security-opt",
            "no-new-privileges",
            "--env-file",
            str(env_file),
            "--health-cmd",
            health_cmd,
            *schedule,
            *mounts,
            self.image,
            *command,
        )
        return Container(self, name)


@dataclass(frozen=True)
class Container:
    engine: Engine
    name: str

    def inspect(self, template: str) -> str:
        return self.engine.run("inspect", "--format", template, self.name)

    def logs(self) -> str:
        done = self.engine.call("logs", self.name)
        return done.stdout + done.stderr

    def running(self) -> bool:
        return self.inspect("{{.State.Running}}") == "true"

    def healthy(self) -> bool:
        if self.engine.command == "podman":
            return self.engine.call("healthcheck", "run", self.name).returncode == 0
        return self.inspect("{{.State.Health.Status}}") == "healthy"

    def wait(self, what: str, ready: Callable[[], bool], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not ready():
            if not self.running():
                raise EngineError(f"{self.name} exited while waiting for {what}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: no {what} after {timeout_s:.0f}s:\n{self.tail()}")
            time.sleep(0.5)

    def wait_for_log(self, text: str, timeout_s: float) -> None:
        self.wait(repr(text), lambda: text in self.logs(), timeout_s)

    def wait_healthy(self, timeout_s: float) -> None:
        self.wait("healthy status", self.healthy, timeout_s)

    def stop(self, timeout_s: int) -> int:
        """SIGTERM (the image's stop signal), SIGKILL after ``timeout_s``; the exit code."""
        self.engine.run("stop", "--time", str(timeout_s), self.name, timeout_s=timeout_s + 60)
        return int(self.inspect("{{.State.ExitCode}}"))

    def remove(self) -> None:
        # Docker's rm --force kills at once; podman's would wait 10 s after SIGTERM.
        now = ["--time", "0"] if self.engine.command == "podman" else []
        self.engine.call("rm", "--force", *now, self.name)

    def tail(self) -> str:
        return self.logs()[-3000:]
