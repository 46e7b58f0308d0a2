"""``civicqc stack logs``: an unknown service is a usage error that names the known ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from civicqc.cli import main as cli_main


def test_an_unknown_service_is_exit_2_with_a_plain_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["stack", "--dir", str(tmp_path), "logs", "kafak"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("civicqc stack logs: no service 'kafak'; known: [")
    assert "'kafka', 'object_store', 'prometheus', 'api', 'consumer-1'" in err
    assert not err.startswith('"')  # KeyError's str() quoted the whole line
