"""The bucket layout: keys are dated by the id, outcomes pick the tag, old uploads map onto photos/.

These are the only tests that spell the layout as literals; every other test
builds keys through :mod:`runtime.layout`.
"""

from __future__ import annotations

import uuid

import pytest

from core.schema import Outcome
from runtime.ids import new_image_id
from runtime.layout import (
    VERDICT_TAG,
    Folder,
    current_key,
    idempotency_key,
    incoming_key,
    photo_prefix,
    redacted_key,
    verdict_key,
    verdict_tags,
)

IMAGE_ID = new_image_id(1_750_000_000_000_000_000)


def test_an_incoming_key_is_dated_by_the_id() -> None:
    assert incoming_key(IMAGE_ID, "jpg") == f"photos/2025/06/15/{IMAGE_ID}.jpg"
    assert photo_prefix(Folder.ACCEPTED, IMAGE_ID) == f"accepted/2025/06/15/{IMAGE_ID}"


def test_an_id_without_a_date_has_no_key() -> None:
    with pytest.raises(ValueError, match="not a UUIDv7"):
        incoming_key(uuid.uuid4(), "jpg")


@pytest.mark.parametrize(
    ("outcome", "tag"),
    [(Outcome.ACCEPTED, "accepted"), (Outcome.REJECTED, "rejected"), (Outcome.ERROR, "rejected")],
)
def test_the_outcome_picks_the_verdict_tag(outcome: Outcome, tag: str) -> None:
    assert verdict_tags(outcome) == {VERDICT_TAG: tag}


def test_a_photo_stays_where_it_is_and_an_old_upload_maps_onto_photos() -> None:
    assert current_key("photos/2026/05/04/abc.jpg") == "photos/2026/05/04/abc.jpg"
    assert current_key("incoming/2026/05/04/abc.jpg") == "photos/2026/05/04/abc.jpg"
    assert current_key(incoming_key(IMAGE_ID, "heic")).startswith(
        photo_prefix(Folder.PHOTOS, IMAGE_ID) + "."
    )


def test_verdict_and_idempotency_keys() -> None:
    assert verdict_key("0190-abc") == "verdicts/0190-abc.json"
    assert verdict_key(IMAGE_ID) == f"verdicts/{IMAGE_ID}.json"
    assert (
        idempotency_key("springfield", "0a0a0a0a", "ab" * 32)
        == f"idempotency/springfield/0a0a0a0a/{'ab' * 32}.json"
    )


@pytest.mark.parametrize("original", ["abc.jpg", "abc.heic", "abc.png"])
def test_the_redacted_copy_sits_next_to_the_photo_as_a_jpeg(original: str) -> None:
    assert redacted_key(f"photos/2026/05/04/{original}") == "photos/2026/05/04/abc.redacted.jpg"
