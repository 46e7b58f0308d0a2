"""The scoring pool with real spawned workers: one bad input costs one event, never the pool.

The task functions in ``worker_tasks`` stand in for inputs that make the engine die,
raise, allocate without bound or hang; the EXIF bomb of issue 11 runs the real engine.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest

from bench.hostile_inputs import exif_count_bomb
from consumer.scoring import ScoringPool, WorkerCrashedError
from core.profiles import builtin_profile
from core.schema import Outcome
from tests.builders import images
from tests.consumer import worker_tasks

pytestmark = pytest.mark.slow

HEADROOM = 256 * 2**20


async def started(pool: ScoringPool) -> AsyncIterator[ScoringPool]:
    await pool.start()
    try:
        yield pool
    finally:
        pool.shutdown()


@pytest.fixture
async def pool() -> AsyncIterator[ScoringPool]:
    async for p in started(
        ScoringPool(
            2,
            {},
            headroom_bytes=HEADROOM,
            task_timeout_s=2.0,
            task_fn=worker_tasks.misbehaving,
        )
    ):
        yield p


async def outcomes(pool: ScoringPool, inputs: list[bytes]) -> list[str]:
    """What each input got: the image id its verdict names, or the error's text."""
    results = await asyncio.gather(
        *(pool.score(data, "default", f"id{i}") for i, data in enumerate(inputs)),
        return_exceptions=True,
    )
    return [str(r) if isinstance(r, BaseException) else r.verdict.image_id or "" for r in results]


async def test_each_failing_task_costs_only_its_own_event(pool: ScoringPool) -> None:
    bad = {1: b"die", 3: b"raise", 5: b"hog", 7: b"hang"}
    inputs = [bad.get(i, b"ok") for i in range(10)]
    started_at = time.monotonic()
    found = await outcomes(pool, inputs)
    assert [found[i] for i in range(10) if i not in bad] == [f"id{i}" for i in (0, 2, 4, 6, 8, 9)]
    assert "exited with code -9" in found[1]
    assert found[3].startswith("RuntimeError: the engine had a bug")
    assert found[5].startswith("MemoryError"), "the hog fails inside its worker, within the limit"
    assert found[7] == "no answer within 2 s; killed"
    assert time.monotonic() - started_at < 30
    assert pool.peak_rss_bytes < HEADROOM + 256 * 2**20, "a worker never holds more than its limit"
    # ... and the pool is whole again afterwards.
    assert await outcomes(pool, [b"ok"] * 4) == ["id0", "id1", "id2", "id3"]
    assert pool.busy == 0


async def test_the_exif_bomb_of_issue_11_is_contained_by_the_worker_limit() -> None:
    pool = ScoringPool(1, {"default": builtin_profile("default")}, headroom_bytes=1024 * 2**20)
    async for p in started(pool):
        replica_rss = psutil.Process().memory_info().rss
        try:
            # The engine now skips the impossible entry and scores the pixels; before that
            # fix, the limit turned its 2.2 GB allocation into a MemoryError in the worker.
            scored = await p.score(exif_count_bomb(), "default", "bomb")
            assert scored.verdict.image_id == "bomb"
        except WorkerCrashedError as exc:
            assert "MemoryError" in str(exc)
        assert psutil.Process().memory_info().rss - replica_rss < 50 * 2**20
        # The worker, kept or replaced, scores the next photo.
        good = await p.score(
            images.with_garbage_exif(images.encode(images.sharp_photo(640, 480))), "default", "good"
        )
        assert good.verdict.verdict is not Outcome.ERROR
        print(f"\nworker peak RSS with the EXIF bomb: {p.peak_rss_bytes / 2**20:.0f} MiB")
        assert p.peak_rss_bytes < (1024 + 512) * 2**20


def _inbox_files() -> list[str]:
    folders = [Path("/dev/shm"), Path(tempfile.gettempdir())]
    return sorted(str(p) for d in folders if d.is_dir() for p in d.glob("civicqc-inbox-*"))


async def test_photos_cross_to_the_worker_intact_whatever_their_size() -> None:
    """Bytes go through the worker's shared inbox; one larger than it gets a larger one,
    and no inbox keeps a name on disk once its worker has mapped it."""
    before = _inbox_files()
    sizes = [3 * 2**20, 20 * 2**20, 1000, 40 * 2**20 + 1, 0]
    inputs = [random.Random(size).randbytes(size) for size in sizes]
    async for p in started(ScoringPool(1, {}, task_fn=worker_tasks.digest)):
        for i, data in enumerate(inputs):
            scored = await p.score(data, "default", f"id{i}")
            assert scored.verdict.image_id == f"id{i}"
            assert scored.verdict.error is not None
            assert scored.verdict.error.message == hashlib.sha256(data).hexdigest()
            assert _inbox_files() == before


@pytest.mark.parametrize(("workers", "cores", "threads"), [(2, 2, "1/1"), (1, 2, "2/2")])
async def test_each_worker_gives_opencv_and_libheif_its_share_of_the_cores(
    workers: int, cores: int, threads: str
) -> None:
    """Workers score in parallel already: OpenCV's pool of a thread per core, and
    libheif's four decoding threads, in each of them would make them compete for the
    cores (issue #17's CPU per image), and libheif's would each hold a decoder's memory."""
    pool = ScoringPool(workers, {}, cores=cores, task_fn=worker_tasks.decoder_threads)
    async for p in started(pool):
        answers = await asyncio.gather(*(p.score(b"x", "default", f"id{i}") for i in range(4)))
    assert {scored.verdict.error.message for scored in answers if scored.verdict.error} == {threads}
