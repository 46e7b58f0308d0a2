"""``civicqc retention show|apply``: the bucket's lifecycle rules (see docs/SECURITY.md#retention).

Reads the S3 settings every service reads (``S3_ENDPOINT``, ``S3_ACCESS_KEY`` ...),
so it works against any deployment's store, not only ``civicqc stack``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields

import urllib3
from minio import Minio
from minio.error import S3Error
from minio.lifecycleconfig import LifecycleConfig

from civicqc.retention import (
    RetentionPolicy,
    apply_retention,
    expirations,
    multipart_cleanup_days,
)
from runtime.settings import CommonSettings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("retention", help="show or apply the bucket's lifecycle rules")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("show", help="print the expirations the store reports")
    apply = actions.add_parser("apply", help="replace the bucket's lifecycle rules")
    defaults = RetentionPolicy()
    for field in fields(RetentionPolicy):
        flag = "--" + field.name.replace("_", "-")
        apply.add_argument(
            flag,
            type=_days,
            default=getattr(defaults, field.name),
            metavar="DAYS",
            help=f"default {getattr(defaults, field.name)}; 0 keeps forever",
        )
    parser.set_defaults(handler=_run)


def _days(text: str) -> int:
    """A usage error (exit 2) for a negative count, which a store may keep as given."""
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of days: {text!r}") from None
    if days < 0:
        raise argparse.ArgumentTypeError(f"{days}: days must be 0 (keep forever) or more")
    return days


def _run(args: argparse.Namespace) -> int:
    settings = CommonSettings()
    client = Minio(
        settings.s3_endpoint,
        access_key=settings.s3_access_key.get_secret_value() or None,
        secret_key=settings.s3_secret_key.get_secret_value() or None,
        secure=settings.s3_secure,
        region=settings.s3_region,
    )
    config: LifecycleConfig | None
    try:
        if args.action == "apply":
            policy = RetentionPolicy(
                **{f.name: getattr(args, f.name) or None for f in fields(RetentionPolicy)}
            )
            config = apply_retention(client, settings.s3_bucket, policy)
        else:
            config = client.get_bucket_lifecycle(settings.s3_bucket)
    except (S3Error, urllib3.exceptions.HTTPError, OSError) as exc:
        print(f"civicqc retention: {settings.s3_bucket}: {exc}", file=sys.stderr)
        return 2
    if config is None or not config.rules:
        print(f"civicqc retention: {settings.s3_bucket} has no lifecycle rules", file=sys.stderr)
        return 0
    for prefix, days in sorted(expirations(config).items()):
        print(f"{prefix or '(all)'}\t{days} days")
    abort_after = multipart_cleanup_days(config)
    if abort_after is not None:
        print(f"(unfinished multipart uploads)\t{abort_after} days")
    return 0
