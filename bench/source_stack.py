"""A local stack run from any commit of this repository, so one bench run can compare two.

``bench.pipeline --before REF`` runs the stack of ``REF`` beside the stack of the
working tree and measures them in turns, with the same photos and the same load, so the
"before" and "after" figures share the machine's conditions of that run. The
commit is exported with ``git archive`` into a temporary folder (no worktree, no
change to the repository) and its own ``civicqc stack up`` starts its services,
with the shared virtual environment's interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType


def export_commit(ref: str, into: Path) -> Path:
    """The tree of ``ref`` written under ``into``; raises if ``ref`` is unknown."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


class SourceStack:
    """``civicqc stack up`` of the checkout at ``source``, in a throw-away stack folder."""

    def __init__(self, source: Path, label: str) -> None:
        self.source = source
        self.label = label
        self._folder = tempfile.TemporaryDirectory(prefix=f"civicqc-bench-{label}-")
        self.root = Path(self._folder.name)

    @property
    def env_file(self) -> Path:
        return self.root / "stack.env"

    def _cli(self, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(self.source)}
        for name in ("KAFKA_BOOTSTRAP_SERVERS", "S3_ENDPOINT", "API_URL", "PROMETHEUS_URL"):
            env.pop(name, None)  # the stack publishes its own
        done = subprocess.run(
            [sys.executable, "-m", "civicqc.cli", "stack", *args, "--dir", str(self.root)],
            cwd=self.source,
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"stack {args[0]} ({self.label}) failed:\n{done.stdout}{done.stderr}"
            )

    def __enter__(self) -> SourceStack:
        try:
            self._cli("up", "--free-ports")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._cli("down")
        finally:
            self._folder.cleanup()
