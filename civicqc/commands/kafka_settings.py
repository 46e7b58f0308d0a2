"""The Kafka settings of an operator's command that reads the stream, or a clear refusal.

``verdicts tail`` and ``shadow report`` connect as the services do (the same ``KAFKA_*``
variables, TLS and SASL included). A setting that cannot work, or a TLS file that cannot
be read, ends the command with exit status 2 and one line naming the variable, not a
traceback, and never the secret.
"""

from __future__ import annotations

import sys

from pydantic import ValidationError

from runtime.kafka_connection import KafkaConnection, KafkaSettingsError
from runtime.settings import CommonSettings


def kafka_settings(command: str) -> tuple[CommonSettings, KafkaConnection]:
    """The settings and their Kafka connection; prints why and exits 2 if they are refused."""
    try:
        settings = CommonSettings()
        return settings, settings.kafka()
    except ValidationError as exc:
        reasons = "; ".join(str(error["msg"]) for error in exc.errors())
        print(f"civicqc {command}: invalid settings: {reasons}", file=sys.stderr)
    except KafkaSettingsError as exc:
        print(f"civicqc {command}: {exc}", file=sys.stderr)
    raise SystemExit(2)
