"""The stack's secret files are private from their first byte, not after a later chmod."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from civicqc.stack import app, object_store
from civicqc.stack.context import ServiceDefinition, StackContext, StackLayout
from civicqc.stack.local_stack import LocalStack
from civicqc.stack.process import ProcessSpec


@pytest.fixture
def no_chmod(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The usual umask, and every chmod lost, as if the process died right after writing."""
    monkeypatch.setattr(Path, "chmod", lambda *_args, **_kw: None)
    monkeypatch.setattr(os, "chmod", lambda *_args, **_kw: None)
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


def _secret_service(value: str) -> ServiceDefinition:
    def spec(_ctx: StackContext) -> ProcessSpec:
        raise AssertionError("not started here")

    return ServiceDefinition("secretive", spec, env=lambda _ctx: {"CIVICQC_API_KEY": value})


@pytest.mark.usefixtures("no_chmod")
def test_stack_env_is_created_0600(tmp_path: Path) -> None:
    stack = LocalStack(tmp_path, services=[_secret_service("cqc_secret")])
    path = stack.write_env_file()
    assert path.read_text(encoding="utf-8") == "CIVICQC_API_KEY=cqc_secret\n"
    assert _private(path)
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no temporary file left"
    stack.write_env_file()  # a rewrite replaces it and stays private
    assert _private(path)


@pytest.mark.usefixtures("no_chmod")
def test_s3_credentials_and_operator_key_are_created_0600(tmp_path: Path) -> None:
    ctx = StackContext(StackLayout(tmp_path), ports={"api": 8000})
    creds = object_store.credentials(ctx)
    s3_file = ctx.layout.secrets / "s3.json"
    assert creds.secret_key in s3_file.read_text(encoding="utf-8")
    assert _private(s3_file)
    key = app.ensure_operator_key(ctx)
    key_file = ctx.layout.secrets / "api-key"
    assert key_file.read_text(encoding="utf-8").strip() == key
    assert _private(key_file)
