"""makeOTM: overscan subtraction, trimming and merging of the four quadrants (docs/processing.md).

The merged image keeps the orientation of the pre-Archon MODS controllers,
which is the detector mirrored top to bottom (MERGED row 1 is detector row
3088); pipelines expect it. Quadrants are numbered in that legacy layout::

    merged (numpy rows down)      source amplifier, transform
    +------------+------------+
    |     Q1     |     Q2     |   Q1 = IM3 rows reversed   Q2 = IM4 rows+cols reversed
    +------------+------------+
    |     Q3     |     Q4     |   Q3 = IM1 rows reversed   Q4 = IM2 rows+cols reversed
    +------------+------------+

Pixels are computed straight from the stored big-endian int16 values into a
big-endian float32 output (the layout FITS writes), in one pass per quadrant,
spread over threads: numpy releases the GIL in its loops.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

import numpy as np

from dataman.core.errors import BadHeader
from dataman.core.frame import EXPECTED_BZERO, AmpImage, RawFrame
from dataman.core.readout import Readout

MERGED_DTYPE = np.dtype(">f4")


@dataclass(frozen=True)
class Placement:
    """Where one amplifier goes in the merged image."""

    amp: str
    quadrant: int
    row_block: int
    column_block: int
    flip_columns: bool
    label: str  # MODSQUAD, literal text kept from the original system


PLACEMENTS = (
    Placement("IM3", 1, 0, 0, False, "Q1 flip cols"),
    Placement("IM4", 2, 0, 1, True, "Q2 flip rows and cols"),
    Placement("IM1", 3, 1, 0, False, "Q3 flip cols"),
    Placement("IM2", 4, 1, 1, True, "Q4 flip rows and cols"),
)


@dataclass(frozen=True)
class QuadrantStats:
    quadrant: int
    bias: float  # median of the overscan block (DN)
    noise: float  # standard deviation, ddof 0 (DN)


def merged_shape(readout: Readout) -> tuple[int, int]:
    return 2 * readout.rows, 2 * readout.columns


def overscan_stats(stored: np.ndarray, columns: int, col_skip: int,
                   row_skip: int) -> tuple[float, float]:
    """(median, std) of the overscan block, in DN, skipping edge columns and rows."""
    block = stored[row_skip:stored.shape[0] - row_skip, columns + col_skip:]
    if block.size == 0:
        raise BadHeader(f"no overscan pixels left after skipping {col_skip} columns and "
                        f"{row_skip} rows of {stored.shape[1] - columns}x{stored.shape[0]}")
    values = block.astype(np.int32) + EXPECTED_BZERO
    return float(np.median(values)), float(values.std())


def make_otm(frame: RawFrame, readout: Readout, *, col_skip: int, row_skip: int,
             out: np.ndarray | None = None) -> tuple[np.ndarray, list[QuadrantStats]]:
    """Compute the merged image into ``out`` (allocated when None).

    Returns the merged '>f4' array and the bias statistics in quadrant order;
    also writes MODSQUAD into every IMn header.
    """
    shape = merged_shape(readout)
    if out is None:
        out = np.empty(shape, dtype=MERGED_DTYPE)
    if out.shape != shape or out.dtype != MERGED_DTYPE:
        raise ValueError(f"merged buffer is {out.shape} {out.dtype}, need {shape} {MERGED_DTYPE}")
    amps = {amp.name: amp for amp in frame.amps}
    jobs = [(amps[place.amp], place) for place in PLACEMENTS]

    def fill(job: tuple[AmpImage, Placement]) -> QuadrantStats:
        amp, place = job
        bias, noise = overscan_stats(amp.stored, readout.columns, col_skip, row_skip)
        _place(amp.stored, readout, place, bias, out)
        return QuadrantStats(place.quadrant, bias, noise)

    stats = list(_pool().map(fill, jobs))
    for amp, place in jobs:
        amp.header["MODSQUAD"] = (place.label, "Quadrant in the merged image")
    return out, stats


def _place(stored: np.ndarray, readout: Readout, place: Placement, bias: float,
           out: np.ndarray) -> None:
    rows, columns = readout.rows, readout.columns
    source = stored[::-1, columns - 1::-1] if place.flip_columns else stored[::-1, :columns]
    target = out[place.row_block * rows:(place.row_block + 1) * rows,
                 place.column_block * columns:(place.column_block + 1) * columns]
    # stored + 32768 - bias, exactly: every term is an integer or half-integer below 2**17.
    np.add(source, np.float32(EXPECTED_BZERO - bias), out=target, casting="unsafe")


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="otm")
