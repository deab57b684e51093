"""MODS detector geometry and FITS sections.

One place converts between 1-based, inclusive FITS sections (``[a:b,c:d]``,
flipped ranges allowed) and numpy slices, and one place derives each
amplifier's detector window from the readout size, so every other module
agrees on where a pixel sits on the e2v CCD231-68.

>>> Section.from_fits("[8292:4147,1:1544]").x_reversed
True
>>> str(amplifier_section(2, c0=4146, r0=1544, width=4146, height=1544))
'[8292:4147,1:1544]'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DETECTOR_COLUMNS = 8292
DETECTOR_ROWS = 3088
REFERENCE_PIXEL = (4146, 1544)
OVERSCAN_COLUMNS = 32
AMPLIFIERS = ("IM1", "IM2", "IM3", "IM4")

#: Readout window modes: detector window (columns, rows), symmetric about the reference pixel.
ROI_MODES: dict[str, tuple[int, int]] = {
    "full": (8292, 3088),
    "4kx3k": (4096, 3088),
    "3kx3k": (3088, 3088),
    "1kx1k": (1024, 1024),
}

_SECTION = re.compile(r"^\[\s*(-?\d+)\s*:\s*(-?\d+)\s*,\s*(-?\d+)\s*:\s*(-?\d+)\s*\]$")


@dataclass(frozen=True)
class Section:
    """A 1-based, inclusive FITS section; ``x1 > x2`` means the axis runs backwards."""

    x1: int
    x2: int
    y1: int
    y2: int

    @classmethod
    def from_fits(cls, text: str) -> Section:
        """Parse ``'[a:b,c:d]'``; raise ``ValueError`` for anything else."""
        match = _SECTION.match(text.strip())
        if match is None:
            raise ValueError(f"not a FITS section: {text!r}")
        return cls(*(int(group) for group in match.groups()))

    def __str__(self) -> str:
        return f"[{self.x1}:{self.x2},{self.y1}:{self.y2}]"

    @property
    def x_reversed(self) -> bool:
        return self.x1 > self.x2

    @property
    def y_reversed(self) -> bool:
        return self.y1 > self.y2

    @property
    def shape(self) -> tuple[int, int]:
        """Numpy shape (rows, columns) of the section."""
        return abs(self.y2 - self.y1) + 1, abs(self.x2 - self.x1) + 1

    def to_slices(self) -> tuple[slice, slice]:
        """Numpy (row, column) slices of an array whose pixel [0, 0] is FITS pixel (1, 1).

        Reversed ranges become negative-step slices, so ``array[section.to_slices()]``
        lists the pixels in the order the section names them.
        """
        return _axis_slice(self.y1, self.y2), _axis_slice(self.x1, self.x2)


def _axis_slice(start: int, stop: int) -> slice:
    if start <= stop:
        return slice(start - 1, stop)
    end = stop - 2
    return slice(start - 1, None if end < 0 else end, -1)


def amplifier_section(amp: int, *, c0: int, r0: int, width: int, height: int) -> Section:
    """Detector section (DETSEC = CCDSEC) of amplifier ``amp`` (1..4); docs/processing.md.

    ``width`` and ``height`` are the quadrant's size in unbinned detector pixels;
    IM2 and IM4 are read out reversed in x, so their sections run backwards.
    """
    left = (c0 - width + 1, c0)
    right = (c0 + width, c0 + 1)
    lower = (r0 - height + 1, r0)
    upper = (r0 + 1, r0 + height)
    x, y = {1: (left, lower), 2: (right, lower), 3: (left, upper), 4: (right, upper)}[amp]
    return Section(x[0], x[1], y[0], y[1])


def readout_window(*, c0: int, r0: int, width: int, height: int) -> Section:
    """The whole readout window (CCDROI) covered by the four quadrants."""
    return Section(c0 - width + 1, c0 + width, r0 - height + 1, r0 + height)


def roi_mode_of(columns: int, rows: int) -> str | None:
    """Name of the ROI mode with this detector window, or None for a non-standard one."""
    for name, size in ROI_MODES.items():
        if size == (columns, rows):
            return name
    return None
