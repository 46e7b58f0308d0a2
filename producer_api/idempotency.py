"""``Idempotency-Key`` records: a retried upload gets the id of the first one.

Records live in the bucket next to the images
(``idempotency/{tenant}/{api key id}/{sha256(key)}.json``), so every replica sees
the same ones without another database.

- A record is written only once the broker has acknowledged the event. Written
  earlier, a retry arriving while the publish was still in flight would be answered
  202 with the id of an upload that the failed publish then deletes (404 for ever).
  The price: two requests racing with the same key before the first one's ack can
  both be accepted, which S3 (no portable create-if-absent) allowed anyway; a client
  retrying after a timeout gets the first id.
- Records are scoped to the API key as well as the tenant: keys are often guessable
  (``report-1``) and a record names an image id, so another key of the tenant must
  not learn it by probing. The holders of one key (every citizen behind a city's
  public page key) do share its records; that is why a public key sees only the
  public view of an image (no location, reporter or EXIF; ``routes/images.py``).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel, ConfigDict, ValidationError

from core.events import ObjectRef
from producer_api.ports import UploadStore
from producer_api.upload_errors import IdempotencyConflictError
from runtime.layout import idempotency_key

HEADER = "Idempotency-Key"


class IdempotencyRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: int = 1
    image_id: str
    submitted_at: datetime
    object: ObjectRef


def record_key(tenant: str, api_key_id: str, key: str) -> str:
    """Hashed, so a client's key never becomes an object name it could steer."""
    return idempotency_key(tenant, api_key_id, hashlib.sha256(key.encode()).hexdigest())


async def find_record(
    store: UploadStore, tenant: str, api_key_id: str, key: str
) -> IdempotencyRecord | None:
    data = await store.fetch_if_exists(record_key(tenant, api_key_id, key))
    if data is None:
        return None
    try:
        return IdempotencyRecord.model_validate_json(data)
    except ValidationError as exc:
        raise IdempotencyConflictError(
            "idempotency_conflict", f"the record for this {HEADER} is unreadable; use a new key"
        ) from exc


async def save_record(
    store: UploadStore, tenant: str, api_key_id: str, key: str, record: IdempotencyRecord
) -> None:
    await store.put(
        record_key(tenant, api_key_id, key), record.model_dump_json().encode(), "application/json"
    )
