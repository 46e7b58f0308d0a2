"""``civicqc keys add|revoke|list``: manage the ingest API's keys file (``API_KEYS_FILE``).

The API re-reads the file when it changes, so a new key works and a revoked one
stops working within ``API_KEYS_RELOAD_S`` on every replica that reads the file
(a mounted Secret or ConfigMap in Kubernetes: update it from this file). ``add``
prints the key once; only its SHA-256 is stored.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from runtime.apikeys import (
    ALL_TENANTS,
    KeyRole,
    KeysFileError,
    new_key,
    read_keys,
    write_keys,
)


class _KeysSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    api_keys_file: Path | None = None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("keys", help="add, revoke and list API keys")
    parser.add_argument("--file", type=Path, help="keys file (default: API_KEYS_FILE)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    add = actions.add_parser("add", help="create a key and print it once")
    add.add_argument("--tenant", required=True, help="tenant it acts for; '*' for an operator")
    add.add_argument(
        "--role",
        choices=[r.value for r in KeyRole],
        help="operator (tenant '*'), tenant (default), or public (embedded in an upload page)",
    )
    add.add_argument("--name", default="", help="who holds it")
    add.add_argument("--rate", type=float, metavar="PER_S", help="requests per second")
    add.add_argument("--burst", type=int, help="token bucket size")

    revoke = actions.add_parser("revoke", help="remove a key by its id")
    revoke.add_argument("key_id", help="the 8 hex digits after 'cqc_'")

    actions.add_parser("list", help="one line per key (no secrets are stored)")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    path = args.file or _KeysSettings().api_keys_file
    if path is None:
        print("civicqc keys: set API_KEYS_FILE or pass --file", file=sys.stderr)
        return 2
    try:
        keys = read_keys(path)
    except KeysFileError as exc:
        print(f"civicqc keys: {exc}", file=sys.stderr)
        return 2
    if args.action == "list":
        for record in keys.keys:
            rate = f"{record.rate_per_s:g}/s" if record.rate_per_s else "default"
            print(
                f"{record.id}\t{record.tenant}\t{record.role.value}\t{rate}\t"
                f"{record.created_at:%Y-%m-%dT%H:%M:%SZ}\t{record.name}"
            )
        return 0
    if args.action == "revoke":
        kept = [record for record in keys.keys if record.id != args.key_id]
        if len(kept) == len(keys.keys):
            print(f"civicqc keys: no key {args.key_id}", file=sys.stderr)
            return 1
        write_keys(path, keys.model_copy(update={"keys": kept}))
        print(f"revoked {args.key_id}", file=sys.stderr)
        return 0
    role = KeyRole(args.role) if args.role else _default_role(args.tenant)
    try:
        key, record = new_key(
            args.tenant, role, name=args.name, rate_per_s=args.rate, burst=args.burst
        )
    except ValueError as exc:
        print(f"civicqc keys: {exc}", file=sys.stderr)
        return 2
    write_keys(path, keys.model_copy(update={"keys": [*keys.keys, record]}))
    print(key)
    print(f"added {record.id} ({role.value}, tenant {record.tenant}) to {path}", file=sys.stderr)
    return 0


def _default_role(tenant: str) -> KeyRole:
    return KeyRole.OPERATOR if tenant == ALL_TENANTS else KeyRole.TENANT
