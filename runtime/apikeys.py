"""API keys of the ingest API: the key format, how a key is hashed, and the keys file.

A key looks like ``cqc_<id>_<secret>``: ``id`` (8 hex digits) names it in logs,
metrics and ``civicqc keys list``; ``secret`` is 32 random bytes (256 bits,
URL-safe base64). Only ``sha256(key)`` is stored. A fast hash is enough because
the secret is random and long: there is no dictionary to attack, and 2^256
guesses stay out of reach at any speed, while argon2 or scrypt would spend tens
of milliseconds of CPU on every request of a two-core replica.

The keys file (``API_KEYS_FILE``) is JSON, written atomically (new: mode 0600) by
``civicqc keys add|revoke`` and re-read by the API when it changes, so keys come
and go without a restart. It holds no secret: a leaked file reveals which keys
exist, not the keys.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import stat
import tempfile
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

KEY_PREFIX = "cqc"
#: A key scoped to this tenant may act for every tenant (operators, internal jobs).
ALL_TENANTS = "*"
_ID_HEX = 8


class KeyRole(StrEnum):
    """What a key may do, beyond its tenant scope."""

    #: Every route, every tenant (tenant must be ``*``).
    OPERATOR = "operator"
    #: Upload, read images and rules, for its own tenant.
    TENANT = "tenant"
    #: Embedded in a city's public upload page: upload and poll status only.
    PUBLIC = "public"


class ApiKeyRecord(BaseModel):
    """One stored key: its hash, never the key."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(pattern=r"^[0-9a-f]{8}$", description="Public part of the key, for logs.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Hex SHA-256 of the whole key.")
    tenant: str = Field(min_length=1, description="Tenant it acts for, or '*' for all.")
    role: KeyRole = KeyRole.TENANT
    name: str = Field(default="", description="Who holds it, for humans.")
    rate_per_s: float | None = Field(
        default=None, gt=0, description="Requests per second; unset: RATE_LIMIT_PER_S."
    )
    burst: int | None = Field(
        default=None, ge=1, description="Bucket size; unset: RATE_LIMIT_BURST."
    )
    created_at: datetime

    @model_validator(mode="after")
    def _role_fits_tenant(self) -> ApiKeyRecord:
        """A hand-edited file must not turn a page's public key into a key for every city."""
        _check_role(self.role, self.tenant)
        return self

    def may_act_for(self, tenant: str) -> bool:
        return self.tenant in (ALL_TENANTS, tenant)


class KeysFile(BaseModel):
    version: int = 1
    keys: list[ApiKeyRecord] = Field(default_factory=list)


class KeysFileError(Exception):
    """The keys file exists but cannot be read or does not validate."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_id(key: str) -> str | None:
    """The id part of a well-formed key, else None (so junk never reaches a lookup)."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != _ID_HEX:
        return None
    if not all(c in "0123456789abcdef" for c in parts[1]) or len(parts[2]) < 32:
        return None
    return parts[1]


def new_key(
    tenant: str,
    role: KeyRole = KeyRole.TENANT,
    *,
    name: str = "",
    rate_per_s: float | None = None,
    burst: int | None = None,
) -> tuple[str, ApiKeyRecord]:
    """A fresh key and the record to store; the key itself is shown once and never stored."""
    _check_role(role, tenant)
    ident = secrets.token_hex(_ID_HEX // 2)
    key = f"{KEY_PREFIX}_{ident}_{secrets.token_urlsafe(32)}"
    record = ApiKeyRecord(
        id=ident,
        sha256=hash_key(key),
        tenant=tenant,
        role=role,
        name=name,
        rate_per_s=rate_per_s,
        burst=burst,
        created_at=datetime.now(UTC),
    )
    return key, record


def _check_role(role: KeyRole, tenant: str) -> None:
    if role is KeyRole.OPERATOR and tenant != ALL_TENANTS:
        raise ValueError("an operator key acts for every tenant: use tenant '*'")
    if role is not KeyRole.OPERATOR and tenant == ALL_TENANTS:
        raise ValueError("only operator keys may use tenant '*'")


def matches(record: ApiKeyRecord, key: str) -> bool:
    """Constant-time comparison of the presented key's hash with the stored one."""
    return hmac.compare_digest(record.sha256, hash_key(key))


def read_keys(path: Path) -> KeysFile:
    """The keys in ``path``; an absent file is an empty one (every request then gets 401)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return KeysFile()
    except OSError as exc:
        raise KeysFileError(f"cannot read {path}: {exc}") from exc
    try:
        return KeysFile.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        raise KeysFileError(f"{path} is not a valid keys file: {exc}") from exc


def write_keys(path: Path, keys: KeysFile) -> None:
    """Replace ``path`` atomically (a reader sees the old file or the new one).

    A new file is 0600. A replaced one keeps its mode: an operator who let the API's
    container user read it (compose mounts it as it is on the host, and the image runs as
    uid 10001) must not lose that with the next ``civicqc keys add``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o600
    fd, tmp = tempfile.mkstemp(prefix=".keys-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(keys.model_dump_json(indent=2) + "\n")
        Path(tmp).chmod(mode)
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
