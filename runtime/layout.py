"""The bucket layout: the one owner of every object key the services read or write.

| folder | what | written by |
| --- | --- | --- |
| ``incoming/{yyyy}/{mm}/{dd}/{id}.{ext}`` | photos not scored yet | API |
| ``accepted/...``, ``rejected/...`` | the same photo once scored, same date path | consumer |
| ``accepted/.../{id}.redacted.jpg`` | the redacted copy, next to its original | consumer |
| ``verdicts/{id}.json`` | the stored verdict ``GET /v1/images/{id}`` serves | consumer |
| ``idempotency/{tenant}/{key id}/{sha256}.json`` | retry records of ``Idempotency-Key`` | API |
| ``digests/{tenant}/{rules}/{sha256}.json`` | the verdict of the first copy of some bytes | consumer |

The day folder comes from the UUIDv7 id (:func:`runtime.ids.issued_at`), so the
key and the id never disagree and the API finds a photo without an index.
``civicqc retention`` expires each folder on its own schedule.
"""

from __future__ import annotations

import re
import uuid
from enum import StrEnum

from core.schema import Outcome
from runtime.ids import issued_at


class Folder(StrEnum):
    """Top-level folders of the bucket; ``prefix`` is what a listing or lifecycle rule uses."""

    INCOMING = "incoming"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    VERDICTS = "verdicts"
    IDEMPOTENCY = "idempotency"
    DIGESTS = "digests"

    @property
    def prefix(self) -> str:
        return f"{self.value}/"


#: A file extension as the API writes one (``jpg``, ``heic``, ``png``).
_EXTENSION = re.compile(r"[a-z0-9]{1,8}")

#: Where a photo may be before its verdict is stored: where a pending image is looked for.
PHOTO_FOLDERS = (Folder.INCOMING, Folder.ACCEPTED, Folder.REJECTED)


def incoming_key(image_id: uuid.UUID, extension: str) -> str:
    """``incoming/{yyyy}/{mm}/{dd}/{id}.{ext}``, dated by the id."""
    return f"{photo_prefix(Folder.INCOMING, image_id)}.{extension}"


def is_incoming_key(key: str, image_id: str) -> bool:
    """Whether ``key`` is where the API stores the upload ``image_id`` (any extension).

    The consumer copies and deletes the key an event names; an event that names any
    other key (another image, another folder, a path) is not acted on.
    """
    try:
        parsed = uuid.UUID(image_id)
        prefix = photo_prefix(Folder.INCOMING, parsed)
    except ValueError:
        return False
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


def filed_key(incoming: str, outcome: Outcome) -> str:
    """``incoming/2025/01/31/id.jpg`` -> ``accepted/...`` or ``rejected/...``.

    ``error`` verdicts are filed under ``rejected/`` too: a photo that cannot be
    decoded cannot document an issue either, and its stored verdict says why.
    """
    folder = Folder.ACCEPTED if outcome is Outcome.ACCEPTED else Folder.REJECTED
    return folder.prefix + incoming.removeprefix(Folder.INCOMING.prefix)


def redacted_key(filed: str) -> str:
    """``accepted/2025/01/31/id.jpg`` -> ``accepted/2025/01/31/id.redacted.jpg``.

    Next to the filed original, so the copy shares its retention rule and its
    day listing; always JPEG, whatever the original's format.
    """
    folder, _slash, name = filed.rpartition("/")
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
