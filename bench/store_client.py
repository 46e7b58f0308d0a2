"""The API's store client alone: CPU per streamed upload, the SDK as it is against ours.

Run against ``civicqc stack up`` (any S3 endpoint in a ``stack.env``)::

    python -m bench.store_client --env-file .stack/stack.env

Streams ``--count`` bodies through :class:`producer_api.storage.ChunkPipe` into
:meth:`runtime.object_store.ObjectStore.put_stream`, as an upload does, once with a
plain ``minio.Minio`` (which hashes the body again to sign it) and once with
:func:`runtime.object_store.minio_client` (which signs it with the pipe's digest),
taking turns ``--rounds`` times, for a tiny body and a 2.7 MB one. It prints this
process's CPU ms per upload (the pipe, the hashing, the SDK and the HTTP client; the
event loop's side included), free of the API server's and the machine's other work,
so the difference is the client's own.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from minio import Minio
from pydantic import SecretStr

from bench.pipeline import _env_file
from producer_api.storage import ChunkPipe
from runtime.object_store import ObjectStore, minio_client
from runtime.settings import CommonSettings

_SIZES = (("tiny", 2_000), ("2.7 MB", 2_700_000))


async def cpu_ms_per_upload(client: Minio, bucket: str, body: bytes, count: int) -> float:
    """CPU ms of this process per upload of ``body`` streamed through a pipe."""
    store = ObjectStore(client, bucket, max_workers=1)
    loop = asyncio.get_running_loop()
    try:
        started = time.process_time()
        for i in range(count):
            pipe = ChunkPipe(loop, max_chunks=16, read_timeout_s=10.0)
            upload = asyncio.ensure_future(
                store.put_stream(f"bench-store-client/{i}", pipe, "image/jpeg")  # type: ignore[arg-type]
            )
            await pipe.write_chunk(body)
            await pipe.finish()
            await upload
        return (time.process_time() - started) / count * 1000
    finally:
        store.close()


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
    ours = minio_client(settings, connect_timeout_s=2.0, read_timeout_s=30.0, pool_size=2)
    plain = Minio(
        settings.s3_endpoint,
        access_key=env["S3_ACCESS_KEY"],
        secret_key=env["S3_SECRET_KEY"],
        secure=settings.s3_secure,
    )
    bucket = env.get("S3_BUCKET", "civicqc-images")
    for label, size in _SIZES:
        body = b"\xff\xd8" + bytes(range(256)) * (size // 256)
        figures: dict[str, list[float]] = {"SDK as is": [], "ours": []}
        for _ in range(args.rounds):
            figures["SDK as is"].append(await cpu_ms_per_upload(plain, bucket, body, args.count))
            figures["ours"].append(await cpu_ms_per_upload(ours, bucket, body, args.count))
        sdk, own = (statistics.median(v) for v in figures.values())
        print(
            f"{label:>7} body: SDK as is {sdk:.2f} ms, ours {own:.2f} ms CPU per upload "
            f"(ours / SDK {own / sdk:.2f}; medians of {args.rounds} x {args.count})"
        )


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
