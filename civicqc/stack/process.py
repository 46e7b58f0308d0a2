"""Supervised child processes: start, health-check, stop — and never touch a stranger.

Several developers run pytest and ``civicqc stack`` on the same machine at once, so
nothing here finds processes by name. A process is only ever signalled through the
pidfile written when *we* started it, and only after checking that the PID still
belongs to that process (the kernel start time recorded in the pidfile must match
``/proc/<pid>/stat``), so a recycled PID is never killed.

Each process gets its own session (``start_new_session``), so a Ctrl-C in the
terminal reaches pytest, which then stops its services in order, rather than
hitting every child at once; stopping signals the whole process group, which is
ours by construction.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

HealthCheck = Callable[[], bool]

_PR_SET_PDEATHSIG = 1


class ProcessError(RuntimeError):
    """A supervised process could not be started or did not become healthy."""


@dataclass(frozen=True)
class ProcessSpec:
    """Everything needed to (re)start one service process.

    ``health`` is polled until it returns True; it must be cheap and must not raise
    for "not ready yet" (return False instead).
    """

    name: str
    argv: Sequence[str]
    log_file: Path
    pid_file: Path
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    health: HealthCheck | None = None
    start_timeout_s: float = 60.0
    stop_timeout_s: float = 20.0
    #: Ask the kernel to SIGTERM the child if the starting process dies (pytest
    #: killed with SIGKILL): test services must never outlive their session.
    die_with_parent: bool = False


@dataclass(frozen=True)
class PidRecord:
    """What a pidfile holds: enough to recognise the process later."""

    pid: int
    start_ticks: int
    argv: list[str]

    def to_json(self) -> str:
        return json.dumps({"pid": self.pid, "start_ticks": self.start_ticks, "argv": self.argv})

    @classmethod
    def from_file(cls, path: Path) -> PidRecord | None:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls(pid=int(raw["pid"]), start_ticks=int(raw["start_ticks"]), argv=raw["argv"])
        except (OSError, ValueError, KeyError, TypeError):
            return None


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks) of a PID, or None if it does not exist."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after it.
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[19])


def is_alive(record: PidRecord) -> bool:
    """True while the recorded process runs (a zombie counts as gone)."""
    stat = _proc_stat(record.pid)
    return stat is not None and stat[1] == record.start_ticks and stat[0] not in ("Z", "X")


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and its descendants in the same group, in bytes."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            pgid = os.getpgid(int(entry.name))
            if pgid != pid:
                continue
            for line in (entry / "status").read_text(encoding="utf-8").splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except (OSError, ValueError):
            continue
    return total


def _die_with_parent() -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _signal_group(record: PidRecord, sig: signal.Signals) -> None:
    if not is_alive(record):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        # The leader was started with its own session, so its PGID is its PID.
        if os.getpgid(record.pid) == record.pid:
            os.killpg(record.pid, sig)
        else:
            os.kill(record.pid, sig)


def stop_recorded(
    record: PidRecord, timeout_s: float, popen: subprocess.Popen[bytes] | None = None
) -> bool:
    """SIGTERM the recorded process group, then SIGKILL after ``timeout_s``.

    Returns True if the process had been running.
    """
    if not is_alive(record):
        if popen is not None:
            popen.poll()
        return False
    _signal_group(record, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if popen is not None:
            popen.poll()
        if not is_alive(record):
            break
        time.sleep(0.1)
    else:
        _signal_group(record, signal.SIGKILL)
        if popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=10)
    # Children that ignored SIGTERM after their leader exited.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(record.pid, signal.SIGKILL)
    return True


def wait_until(check: HealthCheck, timeout_s: float, interval_s: float = 0.2) -> bool:
    """Poll ``check`` until it returns True or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)


class SupervisedProcess:
    """One service process started from a :class:`ProcessSpec`; restartable.

    The object may be created in one command (``stack up``) and a different command
    (``stack down``) may stop it again through :meth:`stop` — state lives in the
    pidfile, not only in memory.
    """

    def __init__(self, spec: ProcessSpec) -> None:
        self.spec = spec
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def record(self) -> PidRecord | None:
        return PidRecord.from_file(self.spec.pid_file)

    def running(self) -> bool:
        record = self.record
        return record is not None and is_alive(record)

    def healthy(self) -> bool:
        if not self.running():
            return False
        return self.spec.health() if self.spec.health is not None else True

    def start(self) -> float:
        """Start the process (unless it already runs) and wait until healthy.

        Returns the seconds it took to become healthy (0.0 if it was running).
        """
        if self.running():
            return 0.0
        spec = self.spec
        spec.log_file.parent.mkdir(parents=True, exist_ok=True)
        spec.pid_file.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **spec.env}
        started = time.monotonic()
        log: IO[bytes]
        with spec.log_file.open("ab") as log:
            log.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S')} start {spec.name}\n".encode())
            log.flush()
            self._popen = subprocess.Popen(
                list(spec.argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=spec.cwd,
                env=env,
                start_new_session=True,
                # PR_SET_PDEATHSIG fires when the *thread* that forked exits, so a
                # service restarted from a worker thread (asyncio.to_thread in a test)
                # would be killed with that thread. Only the main thread's children
                # get it; the others are stopped by the owner's finalizers.
                preexec_fn=_die_with_parent
                if spec.die_with_parent and threading.current_thread() is threading.main_thread()
                else None,
            )
        stat = _proc_stat(self._popen.pid)
        record = PidRecord(self._popen.pid, stat[1] if stat else 0, list(spec.argv))
        spec.pid_file.write_text(record.to_json(), encoding="utf-8")

        def ready() -> bool:
            if self._popen is not None and self._popen.poll() is not None:
                raise ProcessError(
                    f"{spec.name} exited with code {self._popen.returncode} while starting; "
                    f"see {spec.log_file}:\n{tail(spec.log_file, 20)}"
                )
            return spec.health() if spec.health is not None else True

        if not wait_until(ready, spec.start_timeout_s):
            self.stop()
            raise ProcessError(
                f"{spec.name} not healthy after {spec.start_timeout_s:.0f}s; see {spec.log_file}:\n"
                f"{tail(spec.log_file, 20)}"
            )
        return time.monotonic() - started

    def stop(self) -> bool:
        """Stop the process if it is ours and running; True if it was running."""
        record = self.record
        if record is None:
            return False
        was_running = stop_recorded(record, self.spec.stop_timeout_s, self._popen)
        self.spec.pid_file.unlink(missing_ok=True)
        self._popen = None
        return was_running

    def rss_bytes(self) -> int:
        record = self.record
        return rss_bytes(record.pid) if record is not None and is_alive(record) else 0


def tail(path: Path, lines: int) -> str:
    """The last ``lines`` lines of a text file ('' if it does not exist)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 256 * 1024))
            data = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def http_ok(url: str, timeout_s: float = 2.0) -> HealthCheck:
    """A health check that passes when ``url`` answers 2xx."""
    import urllib.error
    import urllib.request

    def check() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310
                return 200 <= int(response.status) < 300
        except (urllib.error.URLError, OSError):
            return False

    return check
