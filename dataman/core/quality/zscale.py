"""zscale: the display range astronomers look at a frame with (IRAF's DISPLAY task).

The limits follow the sky, not the extremes: a line is fitted to a sorted sample
of the pixels, rejecting outliers (stars, cosmic rays, dead columns) and their
neighbours in a few passes, and the range is the fitted slope, made steeper by
1 / ``contrast``, around the sample's median, within its minimum and maximum.

Written here rather than imported from ``astropy.visualization``, whose package
imports matplotlib: that would cost every worker about a second at start and
15 MB, for a function this small. ``tests/quality/test_parts.py`` checks the
limits against astropy's ``ZScaleInterval``.
"""

from __future__ import annotations

import numpy as np

SAMPLES = 1000
CONTRAST = 0.25
REJECT_SIGMA = 2.5
PASSES = 5
#: The fit is trusted while at least this fraction of the sample is kept (and 5 pixels).
KEEP_AT_LEAST = 0.5


def zscale_limits(image: np.ndarray, *, samples: int = SAMPLES,
                  contrast: float = CONTRAST) -> tuple[float, float]:
    """(low, high) display limits of ``image``'s finite pixels; NaN, NaN when there are none."""
    values = np.asarray(image, dtype=np.float64).reshape(-1)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    step = max(1, values.size // samples)
    sample = np.sort(values[::step][:samples])
    count = sample.size
    lowest, highest = float(sample[0]), float(sample[-1])
    slope = _clipped_slope(sample)
    if slope is None:
        return lowest, highest
    if contrast > 0:
        slope /= contrast
    centre = (count - 1) // 2
    median = float(np.median(sample))
    return (max(lowest, median - (centre - 1) * slope),
            min(highest, median + (count - centre) * slope))


def _clipped_slope(sample: np.ndarray) -> float | None:
    """Slope of the sorted sample against its index, outliers and their neighbours left
    out pass by pass; None when too few pixels are left to trust it."""
    count = sample.size
    index = np.arange(count, dtype=np.float64)
    keep = np.ones(count, dtype=bool)
    needed = max(5, int(count * KEEP_AT_LEAST))
    widen = np.ones(max(1, int(count * 0.01)))  # a rejected pixel takes 1 % of its neighbours
    kept, before = count, count + 1
    slope = 0.0
    for _ in range(PASSES):
        if kept >= before or kept < needed:
            break
        slope, intercept = _line(index[keep], sample[keep])
        residual = sample - (slope * index + intercept)
        limit = REJECT_SIGMA * residual[keep].std()
        rejected = np.abs(residual) > limit
        keep &= np.convolve(rejected, widen, mode="same") == 0
        before, kept = kept, int(keep.sum())
    return float(slope) if kept >= needed else None


def _line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope and intercept of y against x (x not all equal)."""
    dx = x - x.mean()
    slope = float(np.dot(dx, y - y.mean()) / np.dot(dx, dx))
    return slope, float(y.mean() - slope * x.mean())
