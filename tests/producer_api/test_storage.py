"""ChunkPipe: the SDK's reads get whole parts, byte for byte, hashed once."""

from __future__ import annotations

import asyncio
import hashlib

from producer_api.storage import ChunkPipe


async def _pipe_reads(chunks: list[bytes], sizes: list[int]) -> tuple[list[bytes], ChunkPipe]:
    """Feed ``chunks`` from the loop while a thread reads ``sizes`` (then until EOF)."""
    pipe = ChunkPipe(asyncio.get_running_loop(), max_chunks=4, read_timeout_s=10)

    def reader() -> list[bytes]:
        out = [pipe.read(size) for size in sizes]
        while piece := pipe.read(1 << 30):
            out.append(piece)
        return out

    reading = asyncio.get_running_loop().run_in_executor(None, reader)
    for chunk in chunks:
        await pipe.write_chunk(chunk)
    await pipe.finish()
    return await reading, pipe


def test_one_read_returns_a_whole_part_made_of_many_chunks() -> None:
    chunks = [bytes([i]) * 1000 for i in range(40)]
    reads, pipe = asyncio.run(_pipe_reads(chunks, [1_000_000]))
    body = b"".join(chunks)
    assert reads == [body]  # one read, although the body came in 40 chunks
    assert pipe.size_bytes == len(body)
    assert pipe.sha256 == hashlib.sha256(body).hexdigest()


def test_reads_smaller_than_a_chunk_split_it_and_keep_the_rest() -> None:
    chunks = [b"a" * 700, b"b" * 700, b"c" * 100]
    reads, pipe = asyncio.run(_pipe_reads(chunks, [500, 500, 500]))
    body = b"".join(chunks)
    assert [len(r) for r in reads[:3]] == [500, 500, 500]
    assert b"".join(reads) == body
    assert pipe.sha256 == hashlib.sha256(body).hexdigest()


def test_a_preloaded_whole_body_is_read_without_the_event_loop() -> None:
    """What the loop gathered before the upload started needs no crossing back to it."""
    chunks = [b"a" * 700, b"b" * 900]
    body = b"".join(chunks)
    loop = asyncio.new_event_loop()  # never run: a crossing would wait for it, then fail
    try:
        pipe = ChunkPipe(loop, max_chunks=4, read_timeout_s=0.5)
        pipe.preload(list(chunks), eof=True)
        whole = pipe.read(1 << 20)
        assert whole == body
        assert pipe.read(1 << 20) == b""
    finally:
        loop.close()
    assert pipe.size_bytes == len(body)
    assert pipe.sha256 == hashlib.sha256(body).hexdigest()


def test_a_preloaded_head_is_followed_by_what_the_loop_feeds() -> None:
    async def reads() -> tuple[list[bytes], ChunkPipe]:
        pipe = ChunkPipe(asyncio.get_running_loop(), max_chunks=4, read_timeout_s=10)
        pipe.preload([b"h" * 300], eof=False)
        reading = asyncio.get_running_loop().run_in_executor(
            None, lambda: [pipe.read(200), pipe.read(1 << 20), pipe.read(1 << 20)]
        )
        await pipe.write_chunk(b"t" * 500)
        await pipe.finish()
        return await reading, pipe

    (first, rest, end), pipe = asyncio.run(reads())
    assert (first, rest, end) == (b"h" * 200, b"h" * 100 + b"t" * 500, b"")
    assert pipe.sha256 == hashlib.sha256(b"h" * 300 + b"t" * 500).hexdigest()
