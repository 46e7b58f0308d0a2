"""The API's store client alone: CPU per one-part upload, the SDK as it is against ours.

Run against ``civicqc stack up`` (any S3 endpoint in a ``stack.env``)::

    python -m bench.store_client --env-file .stack/stack.env

Stores ``--count`` bodies as the API stores a photo that fits one part, taking turns
``--rounds`` times, for a tiny body and a 2.7 MB one: once as a client without our
store code would (the SHA-256 the event needs, then the SDK's ``put_object``, which
hashes the body again to sign it and sends it through urllib3), and once with
:meth:`runtime.object_store.ObjectStore.put_whole` (hashed once, signed with that
digest by :class:`runtime.s3_requests.SignedRequests`, sent with ``http.client``).
Both run in a store thread, as the API's do. It prints this process's CPU ms per
upload, free of the API server's and the machine's other work, so the difference is
the client's own.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import statistics
import time
from pathlib import Path

from minio import Minio
from pydantic import SecretStr

from bench.pipeline import _env_file
from runtime.object_store import ObjectStore, store_client
from runtime.settings import CommonSettings

_SIZES = (("tiny", 2_000), ("2.7 MB", 2_700_000))


def _sdk_put(sdk: Minio, bucket: str, key: str, body: bytes) -> str:
    digest = hashlib.sha256(body).hexdigest()
    sdk.put_object(bucket, key, io.BytesIO(body), len(body), content_type="image/jpeg")
    return digest


async def sdk_cpu_ms(sdk: Minio, bucket: str, body: bytes, count: int) -> float:
    """CPU ms of this process per upload of ``body`` hashed, then stored by the SDK."""
    loop = asyncio.get_running_loop()
    started = time.process_time()
    for i in range(count):
        await loop.run_in_executor(None, _sdk_put, sdk, bucket, f"bench-store-client/{i}", body)
    return (time.process_time() - started) / count * 1000


async def ours_cpu_ms(store: ObjectStore, body: bytes, count: int) -> float:
    """CPU ms of this process per upload of ``body`` through :meth:`ObjectStore.put_whole`."""
    started = time.process_time()
    for i in range(count):
        await store.put_whole(f"bench-store-client/{i}", [body], "image/jpeg")
    return (time.process_time() - started) / count * 1000


async def run(args: argparse.Namespace) -> None:
    env = _env_file(args.env_file)
    settings = CommonSettings.model_validate(
        {
            "s3_endpoint": env["S3_ENDPOINT"],
            "s3_access_key": SecretStr(env["S3_ACCESS_KEY"]),
            "s3_secret_key": SecretStr(env["S3_SECRET_KEY"]),
            "s3_secure": env.get("S3_SECURE", "false") == "true",
        }
    )
    bucket = env.get("S3_BUCKET", "civicqc-images")
    client = store_client(settings, connect_timeout_s=2.0, read_timeout_s=30.0, pool_size=2)
    store = ObjectStore(client, bucket, max_workers=1)
    try:
        for label, size in _SIZES:
            body = b"\xff\xd8" + bytes(range(256)) * (size // 256)
            figures: dict[str, list[float]] = {"SDK as is": [], "ours": []}
            for _ in range(args.rounds):
                figures["SDK as is"].append(await sdk_cpu_ms(client.sdk, bucket, body, args.count))
                figures["ours"].append(await ours_cpu_ms(store, body, args.count))
            sdk, own = (statistics.median(v) for v in figures.values())
            print(
                f"{label:>7} body: SDK as is {sdk:.2f} ms, ours {own:.2f} ms CPU per upload "
                f"(ours / SDK {own / sdk:.2f}; medians of {args.rounds} x {args.count})"
            )
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--env-file", type=Path, required=True)
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
