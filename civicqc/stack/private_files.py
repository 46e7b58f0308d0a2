"""Files that hold the stack's secrets: created 0600 from the first byte, replaced atomically.

Writing first and ``chmod``-ing after leaves a window (and, if the process dies in
it, a file for good) in which the secret is readable under the usual 022 umask.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

_PRIVATE = 0o600


def write_private_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``; no reader ever sees a partial or a readable file."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
