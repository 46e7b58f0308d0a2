"""The consumer acts only on the key the API would have written for an event's image id."""

from __future__ import annotations

import uuid

import pytest

from runtime.ids import new_image_id
from runtime.layout import incoming_key, is_incoming_key


@pytest.mark.parametrize("extension", ["jpg", "heic", "png", "webp"])
def test_the_upload_key_of_the_id_is_accepted(extension: str) -> None:
    image_id = new_image_id()
    assert is_incoming_key(incoming_key(image_id, extension), str(image_id))


def test_an_upload_of_the_layout_before_is_accepted() -> None:
    image_id = new_image_id()
    old = incoming_key(image_id, "jpg").replace("photos/", "incoming/")
    assert is_incoming_key(old, str(image_id))


def test_keys_of_other_ids_folders_and_shapes_are_refused() -> None:
    image_id, other = new_image_id(), new_image_id()
    own = incoming_key(image_id, "jpg")
    refused = [
        incoming_key(other, "jpg"),
        own.replace("photos/", "accepted/"),
        own.replace("photos/", "verdicts/"),
        own.replace("photos/", "photos/../"),
        own + ".json",
        own.removesuffix(".jpg"),
        own.replace(".jpg", ".JPG"),
    ]
    assert [k for k in refused if is_incoming_key(k, str(image_id))] == []


@pytest.mark.parametrize("image_id", ["", "../x", str(uuid.uuid4()), "not-a-uuid"])
def test_ids_that_are_not_uuidv7s_have_no_upload_key(image_id: str) -> None:
    assert not is_incoming_key(f"incoming/2026/11/30/{image_id}.jpg", image_id)


def test_a_non_canonical_spelling_of_the_id_is_refused() -> None:
    image_id = new_image_id()
    assert not is_incoming_key(incoming_key(image_id, "jpg"), image_id.hex)
