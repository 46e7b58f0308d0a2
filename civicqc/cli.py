"""Entry point of the ``civicqc`` console script.

Each sub-command lives in its own module under :mod:`civicqc.commands` and
registers itself, so this file only assembles them (as FastAPI's ``api/main.py``
only assembles routers). Only the module of the command being run is imported:
the others pull in Kafka, S3 and the local stack, which ``civicqc score photo.jpg``
would otherwise pay for on every start.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

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


def _score_environment() -> None:
    """Settle, unless the caller chose, what numpy and pydantic read once when they load.

    Loading numpy starts a BLAS thread per core (~45 ms of CPU on two cores) for
    matrix products the engine never makes; ``civicqc score`` runs in parallel with
    processes, one per core, so BLAS threads would only compete with them. Building
    the first pydantic model looks for pydantic plugins among the entry points of
    every installed distribution (~8 ms); the engine's models need none.
    """
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if "pydantic.plugin._loader" not in sys.modules:
        os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def _parser_without_collections(command: str | None) -> argparse.ArgumentParser:
    """:func:`build_parser`, with the cyclic garbage collector paused while it imports.

    Importing the engine (numpy, pydantic and the models it builds) triggers ~110
    collections that free about 600 objects in all, ~10 ms of a one-photo run: what
    imports build lives as long as the process.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return build_parser(command)
    finally:
        if collecting:
            gc.enable()


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    command = _command_named(words)
    if command == "score":
        _score_environment()
    parser = _parser_without_collections(command)
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


def entry() -> NoReturn:
    """The ``civicqc`` program: :func:`main`, then an exit that skips the teardown where it can.

    Tearing the interpreter down (freeing every module's objects: numpy, OpenCV,
    pydantic) costs ``civicqc score photo.jpg`` ~20 ms after its answer is written. A
    score that started no worker process has nothing left to clean up once its output
    is flushed, so it leaves at once (as mypy does); every other run exits normally.
    """
    code = main()
    if _command_named(sys.argv[1:]) == "score" and "multiprocessing" not in sys.modules:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BrokenPipeError:  # the reader went away: what is left is not wanted
            pass
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
