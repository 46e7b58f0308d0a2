"""Entry point of the ``civicqc`` console script.

Each sub-command lives in its own module under :mod:`civicqc.commands` and
registers itself, so this file only assembles them (as FastAPI's ``api/main.py``
only assembles routers). Only the module of the command being run is imported:
the others pull in Kafka, S3 and the local stack, which ``civicqc score photo.jpg``
would otherwise pay for on every start.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

#: Modules under ``civicqc.commands`` that expose ``register(subparsers)``.
COMMAND_MODULES: tuple[str, ...] = (
    "score",
    "schemas",
    "stack",
    "verdicts",
    "models",
    "keys",
    "retention",
    "shadow",
)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of ``only`` when it names one."""
    parser = argparse.ArgumentParser(
        prog="civicqc",
        description="Photo quality control for civic issue reports.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in (only,) if only in COMMAND_MODULES else COMMAND_MODULES:
        module = importlib.import_module(f"civicqc.commands.{name}")
        module.register(subparsers)
    return parser


def _command_named(argv: Sequence[str]) -> str | None:
    """The command word of ``argv`` (its first argument; no global option takes a value)."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg
    return None


def _one_blas_thread() -> None:
    """Ask OpenBLAS for one thread, unless the caller chose, before numpy loads it.

    Loading numpy starts a BLAS thread per core (~45 ms of CPU on two cores) for
    matrix products the engine never makes; ``civicqc score`` runs in parallel with
    processes, one per core, so BLAS threads would only compete with them.
    """
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    command = _command_named(words)
    if command == "score":
        _one_blas_thread()
    parser = build_parser(command)
    args = parser.parse_args(words)
    try:
        code: int = args.handler(args)
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
