"""Where every stored pixel of a MODS readout comes from on the detector.

A readout is a ROI mode and a binning factor. It fixes the size of each
amplifier's image (data columns, rows, 32 overscan columns at the end of each
row) and, through the true detector sections (docs/processing.md, fixDETSEC), the detector
position of every stored pixel. The simulator paints pixels from this mapping;
the header keywords it writes come from ``azcam_header``, which reproduces
azcam's own (partly wrong) sections instead.

>>> r = ReadoutMode("1kx1k", 2)
>>> r.shape, str(r.section(2))
((256, 288), '[4658:4147,1033:1544]')
>>> r.pixel_centres(2)[0][:2]
array([4657.5, 4655.5])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dataman.core.geometry import (
    OVERSCAN_COLUMNS,
    REFERENCE_PIXEL,
    ROI_MODES,
    Section,
    amplifier_section,
)

BINNINGS = (1, 2)


@dataclass(frozen=True)
class ReadoutMode:
    """One readout configuration: ROI mode (key of ``ROI_MODES``) and binning (``CCDSUM 'b b'``)."""

    roi: str = "full"
    binning: int = 1

    def __post_init__(self) -> None:
        if self.roi not in ROI_MODES:
            raise ValueError(f"unknown ROI mode {self.roi!r}; one of {', '.join(ROI_MODES)}")
        if self.binning not in BINNINGS:
            raise ValueError(f"binning must be 1 or 2, not {self.binning!r}")

    @property
    def width(self) -> int:
        """Quadrant width in unbinned detector columns (half the ROI window)."""
        return ROI_MODES[self.roi][0] // 2

    @property
    def height(self) -> int:
        """Quadrant height in unbinned detector rows (half the ROI window)."""
        return ROI_MODES[self.roi][1] // 2

    @property
    def data_columns(self) -> int:
        """Stored data columns per amplifier (binned), overscan excluded."""
        return self.width // self.binning

    @property
    def rows(self) -> int:
        """Stored rows per amplifier (binned); there is no overscan row."""
        return self.height // self.binning

    @property
    def shape(self) -> tuple[int, int]:
        """Numpy shape of one IMn array: (NAXIS2, NAXIS1), overscan included."""
        return self.rows, self.data_columns + OVERSCAN_COLUMNS

    def section(self, amp: int) -> Section:
        """True detector section (DETSEC = CCDSEC, docs/processing.md) of amplifier ``amp``."""
        c0, r0 = REFERENCE_PIXEL
        return amplifier_section(amp, c0=c0, r0=r0, width=self.width, height=self.height)

    def pixel_centres(self, amp: int) -> tuple[np.ndarray, np.ndarray]:
        """Detector coordinates of the centres of the stored data pixels of amplifier ``amp``.

        Returns ``(columns, rows)``: element ``i`` of ``columns`` is the detector
        column (1-based, unbinned, possibly half-integer) at the centre of stored
        column ``i + 1``; likewise for rows. A binned pixel covers ``b`` detector
        pixels counted from the section's start in the direction it runs, so a
        reversed axis (IM2, IM4 in x) walks down from its high end.
        """
        section = self.section(amp)
        return (
            _axis_centres(section.x1, section.x2, self.data_columns, self.binning),
            _axis_centres(section.y1, section.y2, self.rows, self.binning),
        )


def _axis_centres(start: int, stop: int, count: int, binning: int) -> np.ndarray:
    """Centres of ``count`` binned pixels along an axis running from ``start`` towards ``stop``."""
    direction = 1 if stop >= start else -1
    offsets = np.arange(count, dtype=np.float64) * binning + (binning - 1) / 2
    return start + direction * offsets
