"""S3-compatible object storage: SeaweedFS (``weed server -s3``) from the PyPI wheel.

Production runs MinIO; the application only ever speaks S3 through the ``minio``
SDK, so this store is configured to behave like MinIO where it matters: buckets are
never created implicitly and a non-empty bucket cannot be deleted. Every internal
port (master, volume, filer and their gRPC twins) is set explicitly, because
SeaweedFS otherwise derives gRPC ports as HTTP port + 10000, which collides between
concurrent stacks.

Readiness is a signed ``ListBuckets``: the S3 port answers ``/healthz`` before the
filer behind it can create a bucket.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from xml.etree import ElementTree

import urllib3
from minio import Minio
from minio.error import S3Error

from civicqc.stack.context import (
    DEFAULT_BUCKET,
    LOOPBACK,
    ServiceDefinition,
    StackContext,
)
from civicqc.stack.install import weed_path
from civicqc.stack.private_files import write_private_text
from civicqc.stack.process import ProcessSpec

NAME = "object_store"
_INTERNAL_PORTS = ("master", "volume", "filer")


@dataclass(frozen=True)
class S3Credentials:
    access_key: str
    secret_key: str


def credentials(ctx: StackContext) -> S3Credentials:
    """The stack's S3 keys, generated on first use and kept (0600) in the stack folder."""
    path = ctx.layout.secrets / "s3.json"
    if path.exists():
        identity = json.loads(path.read_text(encoding="utf-8"))["identities"][0]
        cred = identity["credentials"][0]
        return S3Credentials(cred["accessKey"], cred["secretKey"])
    creds = S3Credentials("CQ" + secrets.token_hex(9).upper(), secrets.token_urlsafe(30))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    config = {
        "identities": [
            {
                "name": "civicqc",
                "credentials": [{"accessKey": creds.access_key, "secretKey": creds.secret_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    write_private_text(path, json.dumps(config, indent=2))
    return creds


def endpoint(ctx: StackContext) -> str:
    """``host:port``, as the minio SDK takes it."""
    return f"{LOOPBACK}:{ctx.port('s3')}"


def client(s3_endpoint: str, creds: S3Credentials, *, patient: bool = True) -> Minio:
    """A minio client; ``patient=False`` gives up at once (for health polling)."""
    http = None
    if not patient:
        http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=1.0, read=2.0), retries=False)
    return Minio(
        s3_endpoint,
        access_key=creds.access_key,
        secret_key=creds.secret_key,
        secure=False,
        http_client=http,
    )


def s3_ready(s3_endpoint: str, creds: S3Credentials) -> bool:
    """Whether an S3 gateway answers; any other answer (a half-started filer's HTML
    page, garbage) is "not yet", so the supervisor's timeout and log tail report it."""
    try:
        client(s3_endpoint, creds, patient=False).list_buckets()
    except (S3Error, urllib3.exceptions.HTTPError, OSError, ElementTree.ParseError):
        return False
    return True


def ensure_bucket(minio: Minio, bucket: str) -> None:
    if not minio.bucket_exists(bucket_name=bucket):
        minio.make_bucket(bucket_name=bucket)


def spec(ctx: StackContext) -> ProcessSpec:
    weed = weed_path()
    if weed is None:
        raise FileNotFoundError("weed not installed: run 'civicqc stack install'")
    creds = credentials(ctx)
    data = ctx.layout.data(NAME)
    data.mkdir(parents=True, exist_ok=True)
    ports = [f"-s3.port={ctx.port('s3')}", f"-s3.port.grpc={ctx.port('s3_grpc')}"]
    for part in _INTERNAL_PORTS:
        ports += [
            f"-{part}.port={ctx.port(f's3_{part}')}",
            f"-{part}.port.grpc={ctx.port(f's3_{part}_grpc')}",
        ]
    argv = [
        str(weed),
        "server",
        f"-ip={LOOPBACK}",
        f"-ip.bind={LOOPBACK}",
        f"-dir={data}",
        "-filer",
        "-s3",
        *ports,
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={ctx.layout.secrets / 's3.json'}",
        "-s3.autoCreateBucket=false",
        "-s3.allowDeleteBucketNotEmpty=false",
        "-master.telemetry=false",
        "-master.volumeSizeLimitMB=64",
        # 0 = as many 64 MB volumes as the disk allows; the default of 8 fills up after
        # about a hundred 12 MP photos and then every PUT fails with InternalError.
        "-volume.max=0",
        # One master: a restart should not wait the default 10 s for an election.
        "-master.electionTimeout=1s",
        "-volume.preStopSeconds=0",
    ]
    s3 = endpoint(ctx)
    return ProcessSpec(
        name=NAME,
        argv=argv,
        log_file=ctx.layout.log_file(NAME),
        pid_file=ctx.layout.pid_file(NAME),
        cwd=data,
        health=lambda: s3_ready(s3, creds),
        start_timeout_s=60.0,
        # The filer's graceful gRPC stop hangs 15 s on its own S3 gateway's metadata
        # stream; acknowledged writes are already in files (page cache), so after a
        # short grace SIGKILL loses nothing.
        stop_timeout_s=5.0,
        die_with_parent=ctx.die_with_parent,
    )


def _env(ctx: StackContext) -> dict[str, str]:
    creds = credentials(ctx)
    return {
        "S3_ENDPOINT": endpoint(ctx),
        "S3_ACCESS_KEY": creds.access_key,
        "S3_SECRET_KEY": creds.secret_key,
        "S3_SECURE": "false",
        "S3_BUCKET": DEFAULT_BUCKET,
    }


def _after_start(ctx: StackContext) -> None:
    ensure_bucket(client(endpoint(ctx), credentials(ctx)), DEFAULT_BUCKET)


def service(create_bucket: bool = True) -> ServiceDefinition:
    """SeaweedFS for the stack; tests pass ``create_bucket=False`` and make their own."""
    return ServiceDefinition(
        name=NAME,
        spec=spec,
        ports=("s3", "s3_grpc", *(f"s3_{p}{g}" for p in _INTERNAL_PORTS for g in ("", "_grpc"))),
        env=_env,
        after_start=_after_start if create_bucket else None,
    )
