"""CPU the ingest API spends per upload, for both request shapes (target <= 8 ms per 3 MB).

Run against ``civicqc stack up`` (or any stack folder with ``run/api.pid``)::

    python -m bench.upload_cost --env-file .stack/stack.env

Sends ``--uploads`` phone-sized JPEGs as raw ``image/jpeg`` bodies, then the same as
``multipart/form-data`` with metadata fields, ``--in-flight`` at a time, and prints
the API process's CPU ms per upload for each (read from ``/proc`` around each run,
after a warm-up). The consumers keep scoring meanwhile; their CPU is not counted.

Before and after, in one run: ``--before REF`` starts the stack of commit ``REF`` and
this tree's side by side, sends both the same photos in turns (``--rounds``, the
order alternating, each figure the median of its rounds, so a change in the
machine's load falls on both) and prints the ratios::

    python -m bench.upload_cost --before main
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import statistics
import tempfile
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from bench.photos import SOURCES, phone_jpeg
from bench.pipeline import _env_file
from bench.source_stack import SourceStack, export_commit
from bench.stack_cpu import service_cpu_s

_SHAPES = (("raw image/jpeg", False), ("multipart/form-data", True), ("raw, tiny JPEG", False))


def tiny_jpegs(count: int) -> list[bytes]:
    """A few kB of JPEG each: their cost is what an upload costs whatever its size."""
    rng = np.random.default_rng(0)
    out = []
    for _ in range(count):
        buffer = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(buffer, "JPEG")
        out.append(buffer.getvalue())
    return out


_FIELDS = {"tenant": "default", "category": "pothole", "latitude": "52.1", "longitude": "4.3"}


async def _send(
    client: httpx.AsyncClient, photos: list[bytes], count: int, in_flight: int, multipart: bool
) -> None:
    slots = asyncio.Semaphore(in_flight)

    async def one(i: int) -> None:
        data = photos[i % len(photos)]
        async with slots:
            if multipart:
                files = {"image": ("photo.jpg", data, "image/jpeg")}
                response = await client.post("/v1/images", files=files, data=_FIELDS)
            else:
                headers = {"Content-Type": "image/jpeg"}
                response = await client.post("/v1/images", content=data, headers=headers)
            response.raise_for_status()

    await asyncio.gather(*(one(i) for i in range(count)))


async def api_cpu_ms(
    client: httpx.AsyncClient,
    root: Path,
    photos: list[bytes],
    args: argparse.Namespace,
    multipart: bool,
) -> float:
    """API CPU ms per upload of one request shape, after ``--warmup`` uploads."""
    await _send(client, photos, args.warmup, args.in_flight, multipart)
    before = service_cpu_s(root)["api"]
    await _send(client, photos, args.uploads, args.in_flight, multipart)
    used: float = service_cpu_s(root)["api"] - before
    uploads: int = args.uploads
    return used / uploads * 1000


async def one_round(
    client: httpx.AsyncClient,
    root: Path,
    photos: list[bytes],
    tiny: list[bytes],
    args: argparse.Namespace,
) -> list[float]:
    """API CPU ms per upload of each request shape (:data:`_SHAPES`), once."""
    figures = []
    for shape, multipart in _SHAPES:
        sent = tiny if shape.endswith("tiny JPEG") else photos
        figures.append(await api_cpu_ms(client, root, sent, args, multipart))
    return figures


def report(label: str, rounds: list[list[float]], photos: list[bytes], uploads: int) -> list[float]:
    """Print each shape's median over the rounds, then how much of a photo's cost is per
    request and how much per MB (from the tiny uploads); return the medians."""
    mean_mb = statistics.mean(len(p) for p in photos) / 1e6
    medians = [statistics.median(column) for column in zip(*rounds, strict=True)]
    for index, ((shape, _), ms) in enumerate(zip(_SHAPES, medians, strict=True)):
        tiny = shape.endswith("tiny JPEG")
        size = f"{uploads} x {'tiny' if tiny else f'{mean_mb:.3f} MB'}"
        per_3mb = "" if tiny else f"{ms / mean_mb * 3:.1f} ms per 3 MB; "
        each = ", ".join(f"{figures[index]:.1f}" for figures in rounds)
        print(
            f"[{label}] API CPU per upload, {shape:<20} {ms:6.1f} ms "
            f"({per_3mb}{size}; rounds {each}; target <= 8 ms per 3 MB)",
            flush=True,
        )
    raw, _multipart, fixed = medians
    print(
        f"[{label}] raw upload = {fixed:.1f} ms per request + "
        f"{(raw - fixed) / mean_mb:.1f} ms per MB"
    )
    return medians


async def measure(
    sides: list[tuple[str, Path]], photos: list[bytes], args: argparse.Namespace
) -> list[list[float]]:
    """Each side's medians; the sides take turns every round (in alternating order), so
    the machine's changing load falls on all of them alike."""
    tiny = tiny_jpegs(len(photos))
    rounds: dict[str, list[list[float]]] = {label: [] for label, _ in sides}
    async with contextlib.AsyncExitStack() as clients:
        connected = []
        for label, env_file in sides:
            env = _env_file(env_file)
            headers = {"X-API-Key": env["CIVICQC_API_KEY"]} if "CIVICQC_API_KEY" in env else {}
            client = httpx.AsyncClient(
                base_url=env.get("API_URL", "http://127.0.0.1:8000"),
                timeout=60.0,
                headers=headers,
            )
            connected.append((label, env_file.parent, await clients.enter_async_context(client)))
        for turn in range(args.rounds):
            for label, root, client in connected if turn % 2 == 0 else connected[::-1]:
                figures = await one_round(client, root, photos, tiny, args)
                print(f"  round {turn + 1}, {label}: " + " / ".join(f"{ms:.1f}" for ms in figures))
                rounds[label].append(figures)
    return [report(label, rounds[label], photos, args.uploads) for label, _ in sides]


async def run(args: argparse.Namespace) -> None:
    photos = [phone_jpeg(SOURCES[i % len(SOURCES)], seed=i) for i in range(args.photos)]
    if not args.before:
        if args.env_file is None:
            raise SystemExit("give --env-file of a running stack, or --before REF")
        await measure([("stack", args.env_file)], photos, args)
        return
    with (
        tempfile.TemporaryDirectory(prefix="civicqc-before-") as tree,
        SourceStack(export_commit(args.before, Path(tree)), "before") as old,
        SourceStack(Path.cwd(), "after") as new,
    ):
        before, after = await measure(
            [(f"before {args.before}", old.env_file), ("after", new.env_file)], photos, args
        )
    for (shape, _), was, now in zip(_SHAPES, before, after, strict=True):
        print(f"after / before, {shape:<20} {now / was:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--env-file", type=Path, help="stack.env of a running stack")
    parser.add_argument(
        "--before", metavar="REF", help="start the stacks of git REF and of this tree, compare"
    )
    parser.add_argument("--photos", type=int, default=4, help="distinct 12 MP photos")
    parser.add_argument("--uploads", type=int, default=40, help="uploads measured per shape")
    parser.add_argument("--warmup", type=int, default=8)
    parser.add_argument("--in-flight", type=int, default=2)
    parser.add_argument(
        "--rounds", type=int, default=3, help="turns per stack; each figure is their median"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
