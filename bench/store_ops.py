"""CPU an object store spends per request kind, to choose how few requests an image needs.

Run against ``civicqc stack up`` (SeaweedFS) or any stack folder whose
``run/object_store.pid`` names the store's process::

    python -m bench.store_ops --env-file .stack/stack.env

For each request kind the pipeline could use on one photo (PUT, GET, server-side
COPY, DELETE, tagging, a small JSON PUT, a GET of a missing key, a prefix LIST),
``--count`` requests are made one after another and the store's CPU ms per request
is read from ``/proc`` (the client's own CPU is printed next to it). Then the
per-image totals of the layouts in docs/CAPACITY.md are added up from those figures.
It also says whether the store takes lifecycle rules filtered by object tags and
conditional writes (``If-None-Match: *``).
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable
from pathlib import Path

from minio import Minio
from minio.commonconfig import ENABLED, AndOperator, CopySource, Filter, Tags
from minio.error import S3Error
from minio.lifecycleconfig import Expiration, LifecycleConfig, Rule

from bench.photos import phone_jpeg
from bench.pipeline import _env_file
from bench.stack_cpu import service_cpu_s

#: Request kinds per new photo of each layout (docs/CAPACITY.md, "Object store"). Each
#: counts the consumer's GET of ``verdicts/{id}.json`` (a miss unless the event is
#: replayed), and with exact duplicates on, the GET of the digest record (a miss for a
#: new photo) and its PUT. The last row drops the stored verdict (its GET and PUT), which
#: ``GET /v1/images/{id}`` and byte-identical replays rely on: what that would save.
LAYOUTS: dict[str, dict[str, int]] = {
    "filed (copy + delete)": {
        "put_photo": 1,
        "get_missing": 2,
        "get_photo": 1,
        "copy_photo": 1,
        "put_json": 2,
        "delete": 1,
    },
    "tagged in place (now)": {
        "put_photo": 1,
        "get_missing": 2,
        "get_photo": 1,
        "tag": 1,
        "put_json": 2,
    },
    "no stored verdict (Kafka only)": {
        "put_photo": 1,
        "get_missing": 1,
        "get_photo": 1,
        "tag": 1,
        "put_json": 1,
    },
}


def _timed(
    store_cpu: Callable[[], float], count: int, op: Callable[[int], object]
) -> tuple[float, float]:
    """(store CPU ms, client CPU ms) per request of ``op`` over ``count`` requests."""
    op(-1)  # warm the connection and the path
    store, client = store_cpu(), time.process_time()
    for i in range(count):
        op(i)
    return (store_cpu() - store) / count * 1000, (time.process_time() - client) / count * 1000


def measure(
    client: Minio, bucket: str, store_cpu: Callable[[], float], count: int
) -> dict[str, tuple[float, float]]:
    photo = phone_jpeg("coffee")
    verdict = b'{"verdict": "accepted", "padding": "' + b"x" * 2000 + b'"}'
    run = f"bench-store-ops/{time.time_ns()}"
    tags = Tags.new_object_tags()
    tags["civicqc-verdict"] = "accepted"

    def key(kind: str, i: int) -> str:
        return f"{run}/{kind}/{i}"

    ops: dict[str, Callable[[int], object]] = {
        "put_photo": lambda i: client.put_object(
            bucket, key("p", i), io.BytesIO(photo), len(photo)
        ),
        "get_photo": lambda i: client.get_object(bucket, key("p", i)).read(),
        "copy_photo": lambda i: client.copy_object(
            bucket, key("c", i), CopySource(bucket, key("p", i))
        ),
        "tag": lambda i: client.set_object_tags(bucket, key("p", i), tags),
        "put_json": lambda i: client.put_object(
            bucket, key("v", i), io.BytesIO(verdict), len(verdict)
        ),
        "get_missing": lambda i: _get_missing(client, bucket, key("none", i)),
        "list_prefix": lambda i: next(iter(client.list_objects(bucket, prefix=key("p", i))), None),
        "delete": lambda i: client.remove_object(bucket, key("c", i)),
    }
    return {name: _timed(store_cpu, count, op) for name, op in ops.items()}


def _get_missing(client: Minio, bucket: str, key: str) -> None:
    try:
        client.get_object(bucket, key).read()
    except S3Error as exc:
        if exc.code not in ("NoSuchKey", "NoSuchObject"):
            raise


def tag_lifecycle_supported(client: Minio, bucket: str) -> str:
    """Whether the store keeps an expiration rule filtered by prefix and tag (restores the old)."""
    old = client.get_bucket_lifecycle(bucket)
    tags = Tags.new_bucket_tags()
    tags["civicqc-verdict"] = "rejected"
    rule = Rule(
        ENABLED,
        rule_filter=Filter(and_operator=AndOperator("photos/", tags)),
        rule_id="bench-tag-rule",
        expiration=Expiration(days=30),
    )
    try:
        client.set_bucket_lifecycle(bucket, LifecycleConfig([rule]))
        back = client.get_bucket_lifecycle(bucket)
    except S3Error as exc:
        return f"refused ({exc.code})"
    finally:
        if old is not None:
            client.set_bucket_lifecycle(bucket, old)
        else:
            client.delete_bucket_lifecycle(bucket)
    kept = back is not None and any(
        r.rule_filter is not None and r.rule_filter.and_operator is not None for r in back.rules
    )
    return "kept" if kept else "accepted but not kept (dropped the tag filter)"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--env-file", type=Path, required=True)
    parser.add_argument("--count", type=int, default=30)
    args = parser.parse_args()
    env = _env_file(args.env_file)
    root = args.env_file.resolve().parent
    client = Minio(
        env["S3_ENDPOINT"],
        access_key=env["S3_ACCESS_KEY"],
        secret_key=env["S3_SECRET_KEY"],
        secure=env.get("S3_SECURE", "false") == "true",
    )
    bucket = env.get("S3_BUCKET", "civicqc-images")
    figures = measure(client, bucket, lambda: service_cpu_s(root)["object_store"], args.count)
    print(f"{'request':<14}{'store CPU ms':>14}{'client CPU ms':>15}")
    for name, (store, own) in figures.items():
        print(f"{name:<14}{store:14.2f}{own:15.2f}")
    for layout, kinds in LAYOUTS.items():
        store = sum(figures[k][0] * n for k, n in kinds.items())
        own = sum(figures[k][1] * n for k, n in kinds.items())
        print(
            f"per image, {layout:<22} {sum(kinds.values())} requests: store {store:.1f} ms, clients {own:.1f} ms"
        )
    print(f"lifecycle rule filtered by tag: {tag_lifecycle_supported(client, bucket)}")


if __name__ == "__main__":
    main()
