"""The bucket layout: keys are dated by the id, the date path survives filing, outcomes pick the folder.

These are the only tests that spell the layout as literals; every other test
builds keys through :mod:`runtime.layout`.
"""

from __future__ import annotations

import uuid

import pytest

from core.schema import Outcome
from runtime.ids import new_image_id
from runtime.layout import (
    Folder,
    filed_key,
    idempotency_key,
    incoming_key,
    photo_prefix,
    redacted_key,
    verdict_key,
)

IMAGE_ID = new_image_id(1_750_000_000_000_000_000)


def test_an_incoming_key_is_dated_by_the_id() -> None:
    assert incoming_key(IMAGE_ID, "jpg") == f"incoming/2025/06/15/{IMAGE_ID}.jpg"
    assert photo_prefix(Folder.ACCEPTED, IMAGE_ID) == f"accepted/2025/06/15/{IMAGE_ID}"


def test_an_id_without_a_date_has_no_key() -> None:
    with pytest.raises(ValueError, match="not a UUIDv7"):
        incoming_key(uuid.uuid4(), "jpg")


@pytest.mark.parametrize(
    ("outcome", "folder"),
    [(Outcome.ACCEPTED, "accepted"), (Outcome.REJECTED, "rejected"), (Outcome.ERROR, "rejected")],
)
def test_filed_key_keeps_the_date_path(outcome: Outcome, folder: str) -> None:
    assert filed_key("incoming/2026/05/04/abc.jpg", outcome) == f"{folder}/2026/05/04/abc.jpg"


def test_a_filed_photo_is_found_under_its_photo_prefix() -> None:
    filed = filed_key(incoming_key(IMAGE_ID, "heic"), Outcome.REJECTED)
    assert filed.startswith(photo_prefix(Folder.REJECTED, IMAGE_ID) + ".")


def test_verdict_and_idempotency_keys() -> None:
    assert verdict_key("0190-abc") == "verdicts/0190-abc.json"
    assert verdict_key(IMAGE_ID) == f"verdicts/{IMAGE_ID}.json"
    assert (
        idempotency_key("springfield", "0a0a0a0a", "ab" * 32)
        == f"idempotency/springfield/0a0a0a0a/{'ab' * 32}.json"
    )


@pytest.mark.parametrize("original", ["abc.jpg", "abc.heic", "abc.png"])
def test_the_redacted_copy_sits_next_to_the_filed_photo_as_a_jpeg(original: str) -> None:
    filed = f"accepted/2026/05/04/{original}"
    assert redacted_key(filed) == "accepted/2026/05/04/abc.redacted.jpg"
