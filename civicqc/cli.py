"""Entry point of the ``civicqc`` console script.

Each sub-command lives in its own module under :mod:`civicqc.commands` and
registers itself, so this file only assembles them (as FastAPI's ``api/main.py``
only assembles routers).
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
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="civicqc",
        description="Photo quality control for civic issue reports.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"civicqc.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
