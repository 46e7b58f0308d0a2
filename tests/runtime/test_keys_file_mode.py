"""The keys file's mode: private when new, kept when replaced (the API may run as another uid)."""

from __future__ import annotations

import stat
from pathlib import Path

from runtime.apikeys import KeyRole, KeysFile, new_key, read_keys, write_keys


def _one_more_key(path: Path) -> None:
    keys = read_keys(path)
    _key, record = new_key("springfield", KeyRole.TENANT, name="clerk")
    write_keys(path, keys.model_copy(update={"keys": [*keys.keys, record]}))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_keys_file_is_0600(tmp_path: Path) -> None:
    path = tmp_path / "api-keys.json"
    write_keys(path, KeysFile())
    assert _mode(path) == 0o600


def test_replacing_the_file_keeps_the_mode_the_operator_gave_it(tmp_path: Path) -> None:
    path = tmp_path / "api-keys.json"
    write_keys(path, KeysFile())
    path.chmod(0o644)  # docs/OPERATIONS.md: readable by the image's uid 10001 under compose
    _one_more_key(path)
    _one_more_key(path)
    assert _mode(path) == 0o644
    assert len(read_keys(path).keys) == 2
