"""The ingest API's own Python per upload, free of the network and of the machine's noise.

Run from a checkout (no stack needed)::

    python -m bench.api_inprocess --before c99b272

``bench.upload_cost`` measures a whole upload in the API process, where the HTTP
server, urllib3, aiokafka and the kernel's copies and switches are most of the cost
and other engineers' work moves the figure by 10% from round to round. This drives
``POST /v1/images`` through the app itself, in one process on uvloop, with every
layer the API's code owns (middlewares, routing, dependencies, the route, the
Submitter, the store client's request building and signing, the SHA-256) and the
network answered at once: ``runtime.s3_requests``'s exchange (or, in a tree that sent
the photo through the SDK, urllib3's ``urlopen``) returns a 200 without sending, and
the publisher acks without Kafka. A tiny JPEG and a 2.7 MB one (as 13
request chunks, as uvicorn hands them over) are sent ``--uploads`` and
``--uploads / 4`` times per round.

``--before REF`` measures the tree of ``REF`` and this one in turns, a fresh process
each round (the order alternating), each figure the median of ``--rounds``, and
prints the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar, cast

#: Shapes of upload: name, then the request chunks' sizes as uvicorn hands them over.
_SHAPES = {"tiny": [2_004], "2.7 MB": [207_000] * 13}


class _Answer:
    """A PUT's answer, a 200: as urllib3 hands it to the SDK (with the headers the SDK reads)
    and as ``http.client`` hands it to ``runtime.s3_requests``."""

    status = 200
    headers: ClassVar[dict[str, str]] = {"etag": '"0"'}
    data = b""

    def release_conn(self) -> None: ...

    def close(self) -> None: ...

    def read(self, amt: int | None = None) -> bytes:
        return b""

    def isclosed(self) -> bool:
        return True


def _exchanged(*_request: Any) -> tuple[_Answer, _Answer]:
    """``SignedRequests._exchange`` answered at once: a connection (only ever closed) and a 200."""
    return _Answer(), _Answer()


class _NoNetwork:
    """urllib3's ``PoolManager`` for the SDK: every request is answered at once."""

    def urlopen(self, method: str, url: str, body: Any = None, **_kw: Any) -> _Answer:
        return _Answer()

    def clear(self) -> None: ...


class _Acks:
    async def publish_submitted(self, event: Any) -> None: ...


def _app(folder: Path) -> tuple[Any, str]:
    """The API with auth on, its store's network and its publisher stubbed; and a key."""
    from prometheus_client import CollectorRegistry

    from producer_api.main import create_app
    from producer_api.settings import Settings
    from producer_api.storage import open_store
    from producer_api.submissions import Submitter
    from runtime.apikeys import KeyRole, KeysFile, new_key, write_keys

    key, record = new_key("*", KeyRole.OPERATOR, rate_per_s=1e9, burst=10**9)
    write_keys(folder / "keys.json", KeysFile(keys=[record]))
    settings = Settings(
        auth_enabled=True,
        api_keys_file=folder / "keys.json",
        s3_endpoint="127.0.0.1:9",
        s3_access_key="bench",
        s3_secret_key="bench",
        metrics_port=0,
    )
    app = create_app(settings, CollectorRegistry(), json_logs=False)
    store = open_store(settings)
    # This tree sends the photo's PUT itself (runtime/s3_requests.py); an earlier tree sent it
    # through the SDK, and had the SDK ask the store for the region unless it was set.
    for name in ("_requests", "_upload_requests"):
        if hasattr(store, name):
            getattr(store, name)._exchange = _exchanged
    for client in (store._client, store._uploads):
        cast(Any, client)._http = _NoNetwork()
        client._region_map[settings.s3_bucket] = settings.s3_region or "us-east-1"
    app.state.store = store
    app.state.submitter = Submitter(
        store,
        _Acks(),
        app.state.metrics,
        max_concurrent=8,
        max_per_key=8,
        idle_timeout_s=10.0,
        part_bytes=settings.upload_part_size,
    )
    return app, key


async def _upload(app: Any, key: str, chunks: list[bytes]) -> None:
    size = str(sum(len(chunk) for chunk in chunks)).encode()
    headers = [(b"host", b"127.0.0.1:8000"), (b"content-type", b"image/jpeg")]
    headers += [(b"content-length", size), (b"x-api-key", key.encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/images",
        "raw_path": b"/v1/images",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "state": {},
    }
    pending = list(chunks)
    statuses = []

    async def receive() -> dict[str, Any]:
        body = pending.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    if statuses != [202]:
        raise RuntimeError(f"upload answered {statuses}")


def _json_logs_nowhere() -> None:
    """The API's JSON log line per upload, formatted as in production, then dropped."""
    import logging

    from runtime.logs import json_formatter

    handler = logging.FileHandler(os.devnull)
    handler.setFormatter(json_formatter())
    logging.getLogger().handlers[:] = [handler]
    logging.getLogger().setLevel(logging.INFO)


async def _measure(uploads: int) -> dict[str, float]:
    """CPU ms of this process per upload of each shape, after a warm-up."""
    app, key = _app(Path(tempfile.mkdtemp(prefix="civicqc-api-inprocess-")))
    photos = {
        name: [b"\xff\xd8\xff\xe0" + os.urandom(size - 4) for size in sizes]
        for name, sizes in _SHAPES.items()
    }
    figures = {}
    for name, chunks in photos.items():
        count = uploads if name == "tiny" else max(1, uploads // 4)
        for _ in range(count // 4):
            await _upload(app, key, chunks)
        started = time.process_time()
        for _ in range(count):
            await _upload(app, key, chunks)
        figures[name] = (time.process_time() - started) / count * 1000
    app.state.store.close()
    return figures


def _one_round(tree: Path, uploads: int) -> dict[str, float]:
    """One fresh process of ``tree``'s code; this file runs it whatever the tree holds."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", "--uploads", str(uploads)],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _compare(sides: list[tuple[str, Path]], args: argparse.Namespace) -> None:
    rounds: dict[str, list[dict[str, float]]] = {label: [] for label, _ in sides}
    for turn in range(args.rounds):
        for label, tree in sides if turn % 2 == 0 else sides[::-1]:
            rounds[label].append(_one_round(tree, args.uploads))
            shown = " / ".join(f"{ms:.3f}" for ms in rounds[label][-1].values())
            print(f"  round {turn + 1}, {label}: {shown} ms", flush=True)
    medians = {
        label: {name: statistics.median(r[name] for r in runs) for name in _SHAPES}
        for label, runs in rounds.items()
    }
    for label, figures in medians.items():
        shown = ", ".join(f"{name} {ms:.3f} ms" for name, ms in figures.items())
        print(f"[{label}] API Python CPU per upload, network stubbed: {shown}")
    if len(sides) == 2:
        (before, was), (_, now) = medians.items()
        for name in _SHAPES:
            print(f"after / {before}, {name}: {now[name] / was[name]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", metavar="REF", help="also measure git REF's tree, compare")
    parser.add_argument("--uploads", type=int, default=400, help="tiny uploads per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        import uvloop

        _json_logs_nowhere()
        print(json.dumps(uvloop.run(_measure(args.uploads))))
        return
    here = Path(__file__).resolve().parents[1]
    if not args.before:
        _compare([("this tree", here)], args)
        return
    from bench.source_stack import export_commit

    with tempfile.TemporaryDirectory(prefix="civicqc-before-") as folder:
        _compare(
            [(f"before {args.before}", export_commit(args.before, Path(folder))), ("after", here)],
            args,
        )


if __name__ == "__main__":
    main()
