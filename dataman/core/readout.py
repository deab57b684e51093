"""The readout window of a frame: binning, overscan, quadrant size, reference pixel.

Derived once from the headers and validated, so that fixDETSEC, fixMisc and
makeOTM work from the same numbers, and an absurd header stops the frame with
a named reason instead of producing a wrong image.
"""

from __future__ import annotations

from dataclasses import dataclass

from dataman.core.errors import BadHeader
from dataman.core.frame import RawFrame
from dataman.core.geometry import (
    DETECTOR_COLUMNS,
    DETECTOR_ROWS,
    OVERSCAN_COLUMNS,
    REFERENCE_PIXEL,
    Section,
    readout_window,
)
from dataman.core.keywords import is_unset, why_unusable


@dataclass(frozen=True)
class Readout:
    """Geometry shared by the four quadrants of one readout.

    ``columns`` and ``rows`` are stored (binned) data pixels per quadrant;
    ``width`` and ``height`` the same in unbinned detector pixels.
    """

    c0: int
    r0: int
    xbin: int
    ybin: int
    columns: int
    rows: int
    overscan: int

    @property
    def width(self) -> int:
        return self.columns * self.xbin

    @property
    def height(self) -> int:
        return self.rows * self.ybin

    @property
    def window(self) -> Section:
        return readout_window(c0=self.c0, r0=self.r0, width=self.width, height=self.height)


def readout_of(frame: RawFrame, warnings: list[str]) -> Readout:
    """Geometry of ``frame``; raises ``BadHeader`` when it cannot lie on the detector."""
    im1 = frame.amps[0].header
    c0 = _reference(frame, "REF-PIX1", REFERENCE_PIXEL[0], DETECTOR_COLUMNS, warnings)
    r0 = _reference(frame, "REF-PIX2", REFERENCE_PIXEL[1], DETECTOR_ROWS, warnings)
    xbin, ybin = binning_of(frame)
    overscan = im1.get("OVRSCAN1")
    if not isinstance(overscan, int) or isinstance(overscan, bool):
        warnings.append(f"OVRSCAN1 missing or not an integer in IM1; assuming {OVERSCAN_COLUMNS}")
        overscan = OVERSCAN_COLUMNS
    columns = im1["NAXIS1"] - overscan
    if overscan < 0 or columns <= 0:
        raise BadHeader(f"OVRSCAN1 {overscan} leaves no data columns in {im1['NAXIS1']}")
    readout = Readout(c0, r0, xbin, ybin, columns, im1["NAXIS2"], overscan)
    window = readout.window
    if window.x1 < 1 or window.x2 > DETECTOR_COLUMNS or window.y1 < 1 \
            or window.y2 > DETECTOR_ROWS:
        raise BadHeader(f"readout window {window} does not fit on the "
                        f"{DETECTOR_COLUMNS}x{DETECTOR_ROWS} detector")
    return readout


def _reference(frame: RawFrame, key: str, default: int, limit: int, warnings: list[str]) -> int:
    value = frame.primary.get(key)
    if is_unset(value):
        warnings.append(f"{why_unusable(frame.primary, key)}; "
                        f"using the detector reference pixel {default}")
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value < limit:
        raise BadHeader(f"{key} = {value!r} is not a pixel inside the detector (1..{limit - 1})")
    return value


def binning_of(frame: RawFrame) -> tuple[int, int]:
    """(bx, by) from CCDSUM of IM1, else of the primary header; all IMn must agree."""
    values = {amp.header.get("CCDSUM") for amp in frame.amps}
    values.discard(None)
    if len(values) > 1:
        raise BadHeader(f"CCDSUM differs between IM1..IM4: {sorted(map(str, values))}")
    text = values.pop() if values else frame.primary.get("CCDSUM")
    try:
        xbin, ybin = (int(part) for part in str(text).split())
    except ValueError as error:
        raise BadHeader(f"CCDSUM = {text!r} is not 'bx by'") from error
    if not (1 <= xbin <= 16 and 1 <= ybin <= 16):
        raise BadHeader(f"CCDSUM = {text!r} is not a binning of 1..16")
    return xbin, ybin
