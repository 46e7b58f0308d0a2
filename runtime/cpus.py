"""How many cores this process may use: the container's CPU set, not the host's count.

Computed in one place so the consumer's default worker count and the detector
threads per worker agree.
"""

from __future__ import annotations

import os


def usable_cores() -> int:
    """Cores in this process's affinity mask (at least 1)."""
    return len(os.sched_getaffinity(0)) or 1
