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
    """Settle, unless the caller chose, what numpy, OpenCV and pydantic read once when they load.

    Loading numpy starts a BLAS thread per core (~45 ms of CPU on two cores) for
    matrix products the engine never makes; ``civicqc score`` runs in parallel with
    processes, one per core, so BLAS threads would only compete with them. OpenCV's
    thread pool is the same case: its start costs a one-photo run ~10 ms of CPU, for
    filters on an analysis-scale array that one core runs in a few milliseconds, and
    its results do not depend on the thread count. Building the first pydantic model
    looks for pydantic plugins among the entry points of every installed distribution
    (~8 ms); the engine's models need none.
    """
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if "cv2" not in sys.modules:
        os.environ.setdefault("OPENCV_FOR_THREADS_NUM", "1")
    if "pydantic.plugin._loader" not in sys.modules:
        os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def _parser_for_this_process(command: str | None) -> argparse.ArgumentParser:
    """:func:`build_parser` for a process that is the ``civicqc`` program.

    What the imports build (numpy, OpenCV, pydantic and the engine's models) lives as
    long as the process, yet the cyclic garbage collector would scan it again and again
    while it grows: a one-photo run spent ~20 ms of CPU in 100 collections that freed a
    few hundred objects (8 collections, under 1 ms, remain). So collection pauses while
    the command imports, and what exists then is frozen out of later collections
    (Python's advice for a parent that forks workers, as ``civicqc score --jobs N``
    does): only pausing would leave it all to the first collections after the imports.
    """
    gc.disable()
    try:
        return build_parser(command)
    finally:
        gc.freeze()
        gc.enable()


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command (``argv`` defaults to the process's); the interpreter stays the caller's."""
    words = sys.argv[1:] if argv is None else list(argv)
    return _run(words, build_parser(_prepared_command(words)))


def _prepared_command(words: list[str]) -> str | None:
    """The command word of ``words``, its libraries' environment settled before they load."""
    command = _command_named(words)
    if command == "score":
        _score_environment()
    return command


def _run(words: list[str], parser: argparse.ArgumentParser) -> int:
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
    """The ``civicqc`` program: :func:`main` in a process of its own, tuned for a short life.

    Every command imports without collecting (:func:`_parser_for_this_process`), and a score
    that started no worker process skips the interpreter's teardown once its output is
    flushed (as mypy does): freeing every module's objects (numpy, OpenCV, pydantic)
    cost ``civicqc score photo.jpg`` ~20 ms after its answer was written.
    """
    words = sys.argv[1:]
    command = _prepared_command(words)
    code = _run(words, _parser_for_this_process(command))
    if command == "score" and "multiprocessing" not in sys.modules:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BrokenPipeError:  # the reader went away: what is left is not wanted
            pass
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
