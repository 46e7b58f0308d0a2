"""Order statistics equal to numpy's to the bit, without its general machinery.

Why: ``np.percentile`` costs about 0.1 ms a call in argument handling, and the blur
check calls it up to eight times a photo on a few thousand values; ``np.median`` also
imports ``numpy.ma`` on its first call (10-20 ms of a one-photo ``civicqc score``) only
to ask whether its input is a masked array. Each function here does numpy's arithmetic
(numpy >= 2) on the order statistics a partial sort finds; tests compare them with
numpy's on random and tied inputs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray


def linear_percentile(values: NDArray[np.floating[Any]], percentile: float) -> float:
    """``np.percentile(values, percentile)``, method ``linear``.

    Parameters
    ----------
    values : non-empty 1-D float array without NaN.
    percentile : in [0, 100].

    Returns
    -------
    The two order statistics around rank ``(n - 1) * percentile / 100`` interpolated
    from the nearer one in the array's own precision, as numpy does.
    """
    n = values.size
    rank = (n - 1) * (percentile / 100)
    below = min(math.floor(rank), n - 1)
    above = min(below + 1, n - 1)
    ordered = np.partition(values, (below, above))
    low, high = ordered[below], ordered[above]
    weight = rank - below
    step = high - low
    precision = values.dtype.type
    if weight >= 0.5:
        return float(high - step * precision(1 - weight))
    return float(low + step * precision(weight))


def median(values: NDArray[np.floating[Any]]) -> float:
    """``np.median(values)`` of a non-empty 1-D float array without NaN.

    The middle order statistic, or the mean of the two middle ones in the array's own
    precision (their sum halved), as numpy does.
    """
    n = values.size
    half = n // 2
    if n % 2:
        return float(np.partition(values, half)[half])
    ordered = np.partition(values, (half - 1, half))
    return float((ordered[half - 1] + ordered[half]) / values.dtype.type(2))
