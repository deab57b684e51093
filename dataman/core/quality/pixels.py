"""What the amplifier checks need from an amplifier's stored pixels, read in place.

The pixels are the big-endian int16 values the frame was read into (value =
stored + 32768); nothing is copied whole. The saturated pixels are counted
exactly over all data pixels through a native-order view, comparing with the
ADC maximum's bytes as that view sees them, so no pixel is byte-swapped. The
spread and the brightest pixel come from a sample of whole rows: enough to
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


@dataclass(frozen=True)
class AmpPixels:
    """Measured on the data pixels (overscan excluded) of one amplifier."""

    saturated: float  # fraction at ADC_MAX, all data pixels counted
    spread: float  # standard deviation of the sampled rows (DN)
    brightest: float  # highest value in the sampled rows (DN)


def measure(stored: np.ndarray, columns: int) -> AmpPixels:
    """Measure the first ``columns`` (data) columns of one amplifier's stored '>i2' image."""
    data = stored[:, :columns]
    if data.size == 0:
        return AmpPixels(0.0, 0.0, 0.0)
    saturated = np.count_nonzero(data.view(np.dtype("=i2")) == _SATURATED) / data.size
    step = max(1, data.shape[0] // SAMPLE_ROWS)
    sample = data[::step].astype(np.float32).reshape(-1)  # a small native copy
    brightest = float(sample.max()) + EXPECTED_BZERO
    sample -= sample.mean()
    spread = math.sqrt(float(np.dot(sample, sample)) / sample.size)  # std, in one BLAS call
    return AmpPixels(float(saturated), spread, brightest)
