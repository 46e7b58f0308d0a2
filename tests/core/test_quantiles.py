"""core/quantiles.py decides verdicts (blur, fingerprint, JPEG quality): numpy's values, bit for bit."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray

from core.quantiles import linear_percentile, median

#: Values from a few tied levels and from a continuous range: ties decide which order
#: statistics straddle a rank.
_ELEMENTS = st.floats(0, 2, width=32) | st.sampled_from([0.25, 0.5, 1.0])


@given(
    values=arrays(
        st.sampled_from([np.float32, np.float64]), st.integers(1, 300), elements=_ELEMENTS
    ),
    percentile=st.floats(0, 100) | st.sampled_from([0.0, 50.0, 90.0, 100.0]),
)
def test_linear_percentile_is_numpys(values: NDArray[np.floating[Any]], percentile: float) -> None:
    expected = float(np.percentile(values, percentile))
    assert linear_percentile(values, percentile) == expected
    assert float(values.min()) <= expected <= float(values.max())


@given(
    values=arrays(
        st.sampled_from([np.float32, np.float64]),
        st.integers(1, 80),
        elements=st.floats(-1e6, 1e6, width=32) | st.sampled_from([0.0, 1.5, 3.0]),
    )
)
def test_median_is_numpys(values: NDArray[np.floating[Any]]) -> None:
    assert median(values) == float(np.median(values))


def test_median_of_an_even_count_is_the_mean_of_the_middle_two() -> None:
    assert median(np.array([4.0, 1.0, 3.0, 2.0])) == 2.5
    assert median(np.array([7.0, 1.0, 3.0], np.float32)) == 3.0


def test_median_does_not_import_numpy_ma() -> None:
    """``np.median`` imports ``numpy.ma`` (10-20 ms of a one-photo CLI run); ours must not."""
    import subprocess

    code = (
        "import sys, numpy as np; from core.quantiles import median; "
        "median(np.arange(5.0)); print('numpy.ma' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
