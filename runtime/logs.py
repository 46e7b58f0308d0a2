"""Structured logs for every service: one JSON object per line on stderr, one set of field names.

Each entry point calls :func:`configure_logging` once, at startup; modules only
``logging.getLogger(__name__)``. Every line carries ``time``, ``level``,
``logger`` and ``message``, plus whatever ``extra=`` a call passes, so one log
query works across the API and the consumers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from pythonjsonlogger.json import JsonFormatter

#: What a line's standard fields are called (stdlib name -> field name).
FIELD_NAMES = {"asctime": "time", "levelname": "level", "name": "logger"}

#: Loggers that keep their own handlers unless told: routed to the root's JSON handler.
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def json_formatter() -> JsonFormatter:
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s", rename_fields=dict(FIELD_NAMES)
    )


def configure_logging(level: str, *, chatty: Iterable[str] = ("aiokafka",)) -> None:
    """Send every logger, uvicorn's included, through one JSON handler at ``level``.

    ``chatty`` loggers log at WARNING at least: aiokafka reports every rebalance
    step at INFO, which would drown the service's own lines.
    """
    handler = logging.StreamHandler()
    handler.setFormatter(json_formatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _UVICORN_LOGGERS:
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    for name in chatty:
        logging.getLogger(name).setLevel(max(root.level, logging.WARNING))
