"""The bucket layout: the one owner of every object key the services read or write.

| folder | what | written by |
| --- | --- | --- |
| ``photos/{yyyy}/{mm}/{dd}/{id}.{ext}`` | every photo, where it stays; tagged | API |
| ``photos/.../{id}.redacted.jpg`` | the redacted copy, next to its original; tagged | consumer |
| ``verdicts/{id}.json`` | the stored verdict ``GET /v1/images/{id}`` serves | consumer |
| ``idempotency/{tenant}/{key id}/{sha256}.json`` | retry records of ``Idempotency-Key`` | API |
| ``digests/{tenant}/{rules}/{sha256}.json`` | the verdict of the first copy of some bytes | consumer |

A photo is never moved. The API stores it tagged ``civicqc-verdict=pending``; the
consumer replaces the tag with the outcome (``accepted`` or ``rejected``; ``error``
verdicts count as rejected). Tags are what filing into folders gave operators, for
one small request instead of a copy of the photo and a delete: lifecycle rules
filtered by tag expire rejected photos early (:mod:`civicqc.retention`), and
``mc find --tags civicqc-verdict=accepted`` lists the accepted ones of a day folder
(the verdict topic and ``verdicts/{id}.json`` say the same per image).

The layout before it, ``incoming/`` then a copy under ``accepted/`` or ``rejected/``,
is still read (:data:`PHOTO_FOLDERS`) and still expired by its prefix rules, so
photos stored before the change stay findable until they expire.

The day folder comes from the UUIDv7 id (:func:`runtime.ids.issued_at`), so the
key and the id never disagree and the API finds a photo without an index.
"""

from __future__ import annotations

import re
import uuid
from enum import StrEnum

from core.schema import Outcome
from runtime.ids import issued_at


class Folder(StrEnum):
    """Top-level folders of the bucket; ``prefix`` is what a listing or lifecycle rule uses."""

    PHOTOS = "photos"
    VERDICTS = "verdicts"
    IDEMPOTENCY = "idempotency"
    DIGESTS = "digests"
    #: The layout before tags (read only): uploads, then copies filed by outcome.
    INCOMING = "incoming"
    ACCEPTED = "accepted"
    REJECTED = "rejected"

    @property
    def prefix(self) -> str:
        return f"{self.value}/"


#: The tag that says where a photo is in its life, and so how long it is kept.
VERDICT_TAG = "civicqc-verdict"
#: Its value from upload until the consumer stores the verdict.
PENDING = "pending"


#: A file extension as the API writes one (``jpg``, ``heic``, ``png``).
_EXTENSION = re.compile(r"[a-z0-9]{1,8}")

#: Where a photo may be, newest layout first: where a pending image is looked for.
PHOTO_FOLDERS = (Folder.PHOTOS, Folder.INCOMING, Folder.ACCEPTED, Folder.REJECTED)


def incoming_key(image_id: uuid.UUID, extension: str) -> str:
    """``photos/{yyyy}/{mm}/{dd}/{id}.{ext}``, dated by the id: where the API stores an upload."""
    return f"{photo_prefix(Folder.PHOTOS, image_id)}.{extension}"


def current_key(key: str) -> str:
    """The key of a photo in this layout: itself for ``photos/``, and for an upload of the
    layout before, ``incoming/2025/01/31/id.jpg`` -> ``photos/2025/01/31/id.jpg``."""
    return Folder.PHOTOS.prefix + key.removeprefix(Folder.INCOMING.prefix).removeprefix(
        Folder.PHOTOS.prefix
    )


def verdict_tags(outcome: Outcome) -> dict[str, str]:
    """The tags of a scored photo (and of its redacted copy).

    ``error`` verdicts are tagged rejected: a photo that cannot be decoded cannot
    document an issue either, and its stored verdict says why.
    """
    return {VERDICT_TAG: "accepted" if outcome is Outcome.ACCEPTED else "rejected"}


def is_incoming_key(key: str, image_id: str) -> bool:
    """Whether ``key`` is where the API stores the upload ``image_id`` (any extension), in
    this layout or the one before (an event published before the change).

    The consumer tags the key an event names; an event that names any other key
    (another image, another folder, a path) is not acted on.
    """
    try:
        parsed = uuid.UUID(image_id)
        return any(
            _is_photo_key(key, parsed, image_id, folder)
            for folder in (Folder.PHOTOS, Folder.INCOMING)
        )
    except ValueError:
        return False


def _is_photo_key(key: str, parsed: uuid.UUID, image_id: str, folder: Folder) -> bool:
    prefix = photo_prefix(folder, parsed)
    extension = key.removeprefix(f"{prefix}.")
    return (
        str(parsed) == image_id and extension != key and _EXTENSION.fullmatch(extension) is not None
    )


def photo_prefix(folder: Folder, image_id: uuid.UUID) -> str:
    """A photo's key in ``folder`` without its extension: a listing prefix that finds it.

    Raises ``ValueError`` for an id that is not a UUIDv7 (it carries no date).
    """
    at = issued_at(image_id)
    if at is None:
        raise ValueError(f"{image_id} is not a UUIDv7")
    return f"{folder.prefix}{at:%Y/%m/%d}/{image_id}"


def redacted_key(photo: str) -> str:
    """``photos/2025/01/31/id.jpg`` -> ``photos/2025/01/31/id.redacted.jpg``.

    Next to the original, with the same tags, so the copy shares its retention rule
    and its day listing; always JPEG, whatever the original's format.
    """
    folder, _slash, name = photo.rpartition("/")
    stem = name.split(".", 1)[0]
    return f"{folder}/{stem}.redacted.jpg" if folder else f"{stem}.redacted.jpg"


def verdict_key(image_id: str | uuid.UUID) -> str:
    """``verdicts/{id}.json``: written by the consumer, read by ``GET /v1/images/{id}``."""
    return f"{Folder.VERDICTS.prefix}{image_id}.json"


def idempotency_key(tenant: str, api_key_id: str, key_sha256: str) -> str:
    """``idempotency/{tenant}/{api key id}/{sha256}.json``: one ``Idempotency-Key``'s record.

    Scoped to the API key that sent it, so no other key can probe for its image id.
    """
    return f"{Folder.IDEMPOTENCY.prefix}{tenant}/{api_key_id}/{key_sha256}.json"


def digest_key(tenant: str, rules: str, sha256: str) -> str:
    """``digests/{tenant}/{rules}/{sha256}.json``: the verdict that identical bytes reuse.

    ``rules`` names the exact rules that scored them (:func:`runtime.rulebook.rules_tag`),
    so a new profile version, an override or a new engine scores the bytes again.
    """
    return f"{Folder.DIGESTS.prefix}{tenant}/{rules}/{sha256}.json"
