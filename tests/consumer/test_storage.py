"""Filing keys: the date path of the upload survives the move, outcomes pick the folder."""

from __future__ import annotations

import pytest

from consumer.storage import filed_key, redacted_key, verdict_key
from core.schema import Outcome


@pytest.mark.parametrize(
    ("outcome", "folder"),
    [(Outcome.ACCEPTED, "accepted"), (Outcome.REJECTED, "rejected"), (Outcome.ERROR, "rejected")],
)
def test_filed_key_keeps_the_date_path(outcome: Outcome, folder: str) -> None:
    assert filed_key("incoming/2026/05/04/abc.jpg", outcome) == f"{folder}/2026/05/04/abc.jpg"


def test_verdict_key_is_what_the_api_reads() -> None:
    assert verdict_key("0190-abc") == "verdicts/0190-abc.json"


@pytest.mark.parametrize("original", ["abc.jpg", "abc.heic", "abc.png"])
def test_the_redacted_copy_sits_next_to_the_filed_photo_as_a_jpeg(original: str) -> None:
    filed = f"accepted/2026/05/04/{original}"
    assert redacted_key(filed) == "accepted/2026/05/04/abc.redacted.jpg"
