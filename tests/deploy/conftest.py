"""The validation toolchain, installed once per session by deploy/validate/run.sh --tools."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.deploy.validators import CACHE, REPO


@pytest.fixture(scope="session")
def toolchain() -> None:
    """promtool, docker-compose, kustomize, the CRDs and the Grafana schema, or a loud failure."""
    proc = subprocess.run(
        ["bash", str(REPO / "deploy" / "validate" / "run.sh"), "--tools"],
        capture_output=True,
        text=True,
        env={**os.environ, "CIVICQC_CACHE": str(CACHE)},
        check=False,
        timeout=900,
    )
    if proc.returncode != 0:
        pytest.fail(f"deploy/validate/run.sh --tools failed:\n{proc.stdout}\n{proc.stderr}")
