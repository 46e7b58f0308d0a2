"""A task's bytes from the replica to its scoring worker through shared memory, not the pipe.

Sent through the pipe, a 3 MB photo is pickled, written 64 KiB at a time while the
worker reads it back (two processes taking turns on one core), then unpickled: about
2 ms of CPU and, on a busy core, 10-17 ms during which the worker scores nothing
(``python -m bench.drain``). Here the replica copies the bytes into a file both
processes map, and only the length crosses the pipe; the worker takes one copy out.

Each worker has its own inbox, and the replica writes to it only while that worker is
idle (the pool hands a worker one task at a time), so no lock is needed. The file lives
in ``/dev/shm`` where there is one (memory, not disk) and is allocated in full when
created, so a full ``/dev/shm`` is an ``OSError`` then (the temp dir is tried next),
never a ``SIGBUS`` on write.
Its name is unlinked as soon as the worker has mapped it: a replica killed with
``SIGKILL`` leaves nothing behind. A photo larger than the inbox gets a new, larger one.
"""

from __future__ import annotations

import mmap
import os
import tempfile
from pathlib import Path

#: Where inboxes live: memory-backed where the system has it.
_SHM = Path("/dev/shm")
#: Inboxes grow in steps of this many bytes.
_STEP = 1 << 20


def _folders() -> list[str | None]:
    """Where an inbox may be created, best first (``None``: the temp dir)."""
    shm = _SHM.is_dir() and os.access(_SHM, os.W_OK)
    return [str(_SHM), None] if shm else [None]


def _mapped_file(folder: str | None, size: int) -> tuple[str, mmap.mmap]:
    fd, path = tempfile.mkstemp(prefix="civicqc-inbox-", dir=folder)
    try:
        os.posix_fallocate(fd, 0, size)
        return path, mmap.mmap(fd, size)
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)


class Inbox:
    """The replica's side: a mapped file of ``size`` bytes, named by ``path`` until unlinked.

    ``/dev/shm`` is small in containers (64 MiB by default): when it is full, the inbox
    is a file in the temp dir instead. ``OSError`` when neither has room.
    """

    def __init__(self, size: int) -> None:
        self.size = max(_STEP, -(-size // _STEP) * _STEP)
        error: OSError | None = None
        for folder in _folders():
            try:
                self.path, self._map = _mapped_file(folder, self.size)
                self._linked = True
                return
            except OSError as exc:
                error = exc
        assert error is not None
        raise error

    def write(self, data: bytes) -> None:
        """Copy ``data`` to the start of the inbox (the caller checked that it fits)."""
        self._map[: len(data)] = data

    def unlink(self) -> None:
        """Remove the name: the mappings stay valid, and nothing is left if a process dies.
        Once only: the pool calls it after every task, and a syscall that fails costs."""
        if self._linked:
            Path(self.path).unlink(missing_ok=True)
            self._linked = False

    def close(self) -> None:
        self.unlink()
        self._map.close()


class InboxReader:
    """The worker's side: maps the inbox a task names (again only when it changed)."""

    def __init__(self) -> None:
        self._path: str | None = None
        self._map: mmap.mmap | None = None

    def read(self, path: str, size: int) -> bytes:
        """The first ``size`` bytes of the inbox at ``path``, as a copy of their own."""
        if path != self._path or self._map is None:
            self.close()
            with Path(path).open("rb") as file:
                self._map = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
            self._path = path
        return self._map[:size]

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
        self._map, self._path = None, None
