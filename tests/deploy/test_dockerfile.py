"""Dockerfile and .dockerignore, checked statically (no Docker engine here)."""

from __future__ import annotations

import re

from tests.deploy.validators import REPO

DOCKERFILE = (REPO / "Dockerfile").read_text()


def _instructions(name: str) -> list[str]:
    return re.findall(rf"^{name}\s+(.+)$", DOCKERFILE, flags=re.MULTILINE)


def test_multi_stage_from_a_pinned_slim_base() -> None:
    froms = _instructions("FROM")
    assert len(froms) >= 2
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, flags=re.MULTILINE)
    assert base is not None
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base.group(1))
    assert all(f.startswith("${PYTHON_IMAGE}") for f in froms)


def test_runs_as_a_numeric_non_root_user_with_a_healthcheck() -> None:
    users = _instructions("USER")
    assert users and re.fullmatch(r"[1-9]\d{3,}:[1-9]\d{3,}", users[-1].strip())
    assert _instructions("HEALTHCHECK")


def test_one_image_two_roles_and_no_torch() -> None:
    assert "producer_api.main:app" in DOCKERFILE
    assert "python -m consumer" in DOCKERFILE
    assert "COPY consumer consumer" in DOCKERFILE
    assert not re.search(r"pip install[^\n]*torch", DOCKERFILE)
    # the image installs [project].dependencies only: keep heavy ML stacks out of them
    import tomllib

    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not [d for d in deps if re.match(r"(torch|torchvision|ultralytics)\b", d)]


def test_dockerignore_keeps_secrets_and_caches_out() -> None:
    ignore = (REPO / ".dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*")] == "*"  # deny by default, then allow-list
    assert "**/.env" in ignore
    assert "!.venv/" not in ignore
