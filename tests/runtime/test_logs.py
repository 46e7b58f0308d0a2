"""One log format for every service: JSON lines with the same field names."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from runtime.logs import FIELD_NAMES, configure_logging


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("aiokafka").setLevel(logging.NOTSET)


@pytest.mark.usefixtures("restored_logging")
def test_a_line_is_one_json_object_with_the_shared_field_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("info")
    logging.getLogger("consumer.loop").info("scored", extra={"image_id": "abc"})
    logging.getLogger("uvicorn.error").info("started")
    first, second = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert set(FIELD_NAMES.values()) | {"message"} <= first.keys()
    assert (first["level"], first["logger"], first["message"]) == (
        "INFO",
        "consumer.loop",
        "scored",
    )
    assert first["image_id"] == "abc"
    assert second["logger"] == "uvicorn.error"


@pytest.mark.usefixtures("restored_logging")
def test_chatty_libraries_are_held_at_warning(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("DEBUG")
    logging.getLogger("aiokafka.consumer").info("rebalancing")
    logging.getLogger("aiokafka.consumer").warning("lost the coordinator")
    (line,) = capsys.readouterr().err.splitlines()
    assert json.loads(line)["message"] == "lost the coordinator"
