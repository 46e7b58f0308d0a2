"""The Kafka-reading commands when the broker can't be reached: exit 2, their error, nothing open.

``civicqc verdicts tail`` and ``civicqc shadow report`` promise exit 2 when Kafka can't
be read (their ``--help``); an operator who mistypes ``KAFKA_BOOTSTRAP_SERVERS`` should
read the command's line naming the address (after aiokafka's own connection error), not
"Unclosed AIOKafkaConsumer" and an object's address after it. The command runs as
its own process, as an operator runs it: the warning comes from the consumer's ``__del__``
at whatever moment the interpreter frees it, which a test process may postpone.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(
    "argv",
    [["verdicts", "tail", "--timeout", "1"], ["shadow", "report", "--timeout", "1"]],
    ids=["verdicts-tail", "shadow-report"],
)
def test_an_unreachable_broker_is_exit_2_and_leaves_no_consumer_open(argv: list[str]) -> None:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{_closed_port()}"}
    done = subprocess.run(
        [sys.executable, "-m", "civicqc", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert f"civicqc {' '.join(argv[:2])}: Kafka at 127.0.0.1:" in done.stderr
    assert "Unclosed AIOKafkaConsumer" not in done.stderr
