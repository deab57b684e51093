"""What the amplifier checks need from an amplifier's stored pixels, read in place.

The pixels are the big-endian int16 values the frame was read into (value =
stored + 32768); nothing is copied whole. Saturated pixels are found through a
native-order view, comparing with the ADC maximum's bytes as that view sees
them, so no pixel is byte-swapped.

Counting every pixel of a full unbinned amplifier (6.4 million) costs about
2 ms, four times per frame; so an amplifier of ``SAMPLED_ROWS`` rows or more is
counted on every ``ROW_STEP``-th row, and counted whole only when that estimate
exceeds ``recount_above`` (half the configured limit): the flag is decided on
the exact count, and a frame with no saturation to speak of costs a quarter.
A saturated band of k rows is estimated at no less than (k - 3) rows, so for a
limit of 0.4 % or more (1544 rows) nothing near the limit escapes the recount.

The spread and the brightest pixel come from a sample of whole rows: enough to
tell a stuck or blind output (``docs/processing.md``, "Quality checks") from a
working one at a small fraction of the cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dataman.core.frame import EXPECTED_BZERO

ADC_MAX = 65535
#: ADC_MAX as stored, reinterpreted in native byte order (what the view compares with).
_SATURATED = np.array([ADC_MAX - EXPECTED_BZERO], dtype=">i2").view(np.dtype("=i2"))[0]
#: Rows sampled per amplifier for the spread and the brightest pixel (at least).
SAMPLE_ROWS = 32
#: Amplifiers with this many rows (full-height, unbinned) have their saturation estimated first.
SAMPLED_ROWS = 1000
ROW_STEP = 4


@dataclass(frozen=True)
class AmpPixels:
    """Measured on the data pixels (overscan excluded) of one amplifier."""

    saturated: float  # fraction at ADC_MAX: counted, or estimated when well below the limit
    spread: float  # standard deviation of the sampled rows (DN)
    brightest: float  # highest value in the sampled rows (DN)


def saturated_fraction(data: np.ndarray, recount_above: float = 0.0) -> float:
    """Fraction of ``data`` ('>i2' stored values) at ADC_MAX; see the module's note."""
    native = data.view(np.dtype("=i2"))
    if data.shape[0] >= SAMPLED_ROWS:
        sample = native[::ROW_STEP]
        estimate = np.count_nonzero(sample == _SATURATED) / sample.size
        if estimate <= recount_above:
            return float(estimate)
    return float(np.count_nonzero(native == _SATURATED) / data.size)


def measure(stored: np.ndarray, columns: int, recount_above: float = 0.0) -> AmpPixels:
    """Measure the first ``columns`` (data) columns of one amplifier's stored '>i2' image."""
    data = stored[:, :columns]
    if data.size == 0:
        return AmpPixels(0.0, 0.0, 0.0)
    saturated = saturated_fraction(data, recount_above)
    step = max(1, data.shape[0] // SAMPLE_ROWS)
    sample = data[::step].astype(np.float32).reshape(-1)  # a small native copy
    brightest = float(sample.max()) + EXPECTED_BZERO
    sample -= sample.mean()
    spread = math.sqrt(float(np.dot(sample, sample)) / sample.size)  # std, in one BLAS call
    return AmpPixels(saturated, spread, brightest)
