"""Where the people are in ultralytics' sample photos, and a box-overlap helper.

Reference boxes are (x1, y1, x2, y2) in original pixels, read off the photos:
the bus photo (810x1080) shows three pedestrians standing in front of the bus;
in the zidane photo (1280x720) Zinedine Zidane stands on the right and Carlo
Ancelotti leans in from the left.
"""

from __future__ import annotations

from collections.abc import Sequence

Box = tuple[float, float, float, float]

BUS_PEOPLE: tuple[Box, ...] = (
    (50, 390, 240, 905),
    (215, 395, 350, 880),
    (670, 330, 810, 885),
)
ZIDANE_PEOPLE: tuple[Box, ...] = (
    (700, 0, 1280, 720),
    (20, 170, 1150, 720),
)


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def best_iou(box: Sequence[float], candidates: Sequence[Sequence[float]]) -> float:
    return max((iou(box, c) for c in candidates), default=0.0)
