"""``Idempotency-Key`` records: a retried upload gets the id of the first one.

Records live in the bucket next to the images (``idempotency/{tenant}/{sha256(key)}.json``),
so every replica sees the same ones without another database. A record is written
after the object is stored and before the event is published, and removed again if
the publish fails, so a record always names an image that was (or is being) announced.

Two requests racing with the same key before either wrote its record can both be
accepted: S3 offers no portable create-if-absent, so this is best effort, which is
what a client retrying after a timeout needs.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, ValidationError

from core.events import ObjectRef
from producer_api.errors import ApiError
from runtime.layout import idempotency_key
from runtime.object_store import ObjectStore

HEADER = "Idempotency-Key"
_KEY_PATTERN = re.compile(r"[\x21-\x7e][\x20-\x7e]{0,254}")


class IdempotencyRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: int = 1
    image_id: str
    submitted_at: datetime
    object: ObjectRef


def checked_key(raw: str | None) -> str | None:
    """The header value if usable; 400 for one that is empty, too long or not ASCII."""
    if raw is None:
        return None
    if not _KEY_PATTERN.fullmatch(raw):
        raise ApiError(
            400, "bad_idempotency_key", f"{HEADER} must be 1-255 printable ASCII characters"
        )
    return raw


def record_key(tenant: str, key: str) -> str:
    """Hashed, so a client's key never becomes an object name it could steer."""
    return idempotency_key(tenant, hashlib.sha256(key.encode()).hexdigest())


async def find_record(store: ObjectStore, tenant: str, key: str) -> IdempotencyRecord | None:
    data = await store.fetch_if_exists(record_key(tenant, key))
    if data is None:
        return None
    try:
        return IdempotencyRecord.model_validate_json(data)
    except ValidationError as exc:
        raise ApiError(
            409,
            "idempotency_conflict",
            f"the record for this {HEADER} is unreadable; use a new key",
        ) from exc


async def save_record(store: ObjectStore, tenant: str, key: str, record: IdempotencyRecord) -> None:
    await store.put(record_key(tenant, key), record.model_dump_json().encode(), "application/json")


async def forget_record(store: ObjectStore, tenant: str, key: str) -> None:
    await store.delete(record_key(tenant, key))
