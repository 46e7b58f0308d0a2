"""``civicqc stack install|up|down|status|logs``: the local stack from the shell.

The stack folder defaults to ``.stack/`` in the checkout (``--dir`` or
``CIVICQC_STACK_DIR`` override it), so ``down`` in the same checkout finds what ``up``
started, and two checkouts do not share one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from civicqc.stack.app import API_KEY_ENV
from civicqc.stack.context import repo_root
from civicqc.stack.install import InstallError, ensure_all
from civicqc.stack.local_stack import DEFAULT_PORTS, LocalStack
from civicqc.stack.process import ProcessError, tail
from civicqc.stack.settings import StackSettings

_EXIT_NOT_RUNNING = 3


def _stack_dir(args: argparse.Namespace) -> Path:
    if args.dir:
        return Path(args.dir).resolve()
    return (StackSettings().stack_dir or repo_root() / ".stack").resolve()


def _ports(values: list[str]) -> dict[str, int]:
    ports: dict[str, int] = {}
    for value in values:
        name, sep, number = value.partition("=")
        if not sep or name not in DEFAULT_PORTS or not number.isdigit():
            raise SystemExit(f"--port expects NAME=PORT with NAME in {sorted(DEFAULT_PORTS)}")
        ports[name] = int(number)
    return ports


def _stack(args: argparse.Namespace) -> LocalStack:
    return LocalStack(
        _stack_dir(args),
        ports=_ports(getattr(args, "port", None) or []),
        default_ports=not getattr(args, "free_ports", False),
    )


def _say(message: str) -> None:
    print(message, flush=True)


def _install(args: argparse.Namespace) -> int:
    return _ensure_installed(summary=True)


def _ensure_installed(*, summary: bool) -> int:
    """Install what is missing; ``up`` skips the summary, which ``install`` printed already."""
    try:
        timings = ensure_all(_say)
    except InstallError as error:
        print(f"install failed: {error}", file=sys.stderr)
        return 1
    if summary:
        _say("installed: " + ", ".join(f"{name} {took:.1f}s" for name, took in timings.items()))
    return 0


def _up(args: argparse.Namespace) -> int:
    if _ensure_installed(summary=False) != 0:
        return 1
    stack = _stack(args)
    try:
        stack.up(_say)
    except (ProcessError, OSError, RuntimeError) as error:
        print(f"stack up failed: {error}", file=sys.stderr)
        print(
            "services already started keep running; 'civicqc stack down' stops them",
            file=sys.stderr,
        )
        return 1
    env = stack.env()
    _say(f"\nstack folder: {stack.layout.root}\nsettings:     {stack.layout.env_file}")
    for key in ("KAFKA_BOOTSTRAP_SERVERS", "S3_ENDPOINT", "PROMETHEUS_URL", "API_URL"):
        if key in env:
            _say(f"  {key}={env[key]}")
    if "API_URL" in env and API_KEY_ENV in env:
        _say(_try_it(stack.layout.env_file))
    return 0


def _try_it(env_file: Path) -> str:
    """A ready-to-run upload and status check against the stack's API."""
    return f"""
try it (the operator key is {API_KEY_ENV} in {env_file.name}):
  set -a; . {env_file}; set +a
  curl -sS -H "X-API-Key: ${API_KEY_ENV}" -F image=@photo.jpg "$API_URL/v1/images"
  curl -sS -H "X-API-Key: ${API_KEY_ENV}" "$API_URL/v2/images/<id from the answer>"
"""


def _down(args: argparse.Namespace) -> int:
    stopped = _stack(args).down(_say)
    if not stopped:
        _say("nothing was running")
    return 0


def _status(args: argparse.Namespace) -> int:
    stack = _stack(args)
    statuses = stack.status()
    all_healthy = all(s.healthy for s in statuses)
    if args.json:
        payload: dict[str, Any] = {
            "folder": str(stack.layout.root),
            "healthy": all_healthy,
            "env": stack.env() if any(s.running for s in statuses) else {},
            "services": {
                s.name: {
                    "pid": s.pid,
                    "running": s.running,
                    "healthy": s.healthy,
                    "rss_bytes": s.rss_bytes,
                    "log_file": str(s.log_file),
                }
                for s in statuses
            },
        }
        print(json.dumps(payload, indent=2))
    else:
        for s in statuses:
            state = "healthy" if s.healthy else ("running" if s.running else "stopped")
            rss = f"{s.rss_bytes / 2**20:.0f} MiB" if s.running else "-"
            print(f"{s.name:<14} {state:<8} pid={s.pid or '-':<8} rss={rss}")
    return 0 if all_healthy else _EXIT_NOT_RUNNING


def _logs(args: argparse.Namespace) -> int:
    stack = _stack(args)
    names = [args.service] if args.service else [s.name for s in stack.services]
    for name in names:
        try:
            stack.service(name)
        except KeyError as error:  # its str() would quote the message
            print(f"civicqc stack logs: {error.args[0]}", file=sys.stderr)
            return 2
        files = [stack.layout.log_file(name)]
        files += sorted(stack.layout.logs(name).glob("*.log"))
        for path in files:
            if path.exists():
                print(f"==> {path} <==")
                print(tail(path, args.lines))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "stack", help="run Kafka, S3 and Prometheus locally (no Docker needed)"
    )
    dir_help = "stack folder (default: .stack/ in the checkout, or CIVICQC_STACK_DIR)"
    parser.add_argument("--dir", help=dir_help)
    commands = parser.add_subparsers(dest="stack_command", required=True, metavar="ACTION")
    # Also after the action (``civicqc stack up --dir PATH``); SUPPRESS keeps a --dir
    # given before the action when none follows it.
    folder = argparse.ArgumentParser(add_help=False)
    folder.add_argument("--dir", default=argparse.SUPPRESS, help=dir_help)

    install = commands.add_parser(
        "install", parents=[folder], help="install Kafka jars, SeaweedFS, Prometheus"
    )
    install.set_defaults(handler=_install)

    up = commands.add_parser(
        "up", parents=[folder], help="install if needed, start everything, print URLs"
    )
    up.add_argument(
        "--port",
        action="append",
        metavar="NAME=PORT",
        help=f"override a port (repeatable); names: {', '.join(DEFAULT_PORTS)}",
    )
    up.add_argument(
        "--free-ports",
        action="store_true",
        help="every port not given with --port is a free ephemeral one instead of its "
        "default (remembered in stack.json, so status and down find them)",
    )
    up.set_defaults(handler=_up)

    down = commands.add_parser(
        "down", parents=[folder], help="stop every process this stack started"
    )
    down.set_defaults(handler=_down)

    status = commands.add_parser(
        "status", parents=[folder], help="health of each service (exit 3 if not all up)"
    )
    status.add_argument("--json", action="store_true", help="print settings and state as JSON")
    status.set_defaults(handler=_status)

    logs = commands.add_parser(
        "logs", parents=[folder], help="tail the logs of one or all services"
    )
    logs.add_argument("service", nargs="?", help="kafka, object_store, prometheus, ...")
    logs.add_argument("-n", "--lines", type=int, default=50)
    logs.set_defaults(handler=_logs)
