"""Header cards exactly as azcam (26.x) writes them for a MODS Archon frame, defects included.

dataMan exists to repair these headers, so the simulator must not write the
right values: it must write azcam's. Every value below was derived from
azcam's writer (``azcam.image_headers`` and ``azcam.image_focalplane``) with
the MODS focal plane (2 x 2 amplifiers on one CCD, IM2 and IM4 flipped in x,
reference pixel 4146.0, 1544.0, 32 overscan columns) and is checked against
the real writer by ``tests/sim/test_azcam_conformance.py``. Known defects:

* DETSEC/CCDSEC of subframes: azcam keeps the window's offset from the
  detector's lower-left corner for every quadrant, so IM2..IM4 end at the far
  detector edges (1kx1k IM2: ``[8292:7781,...]`` instead of ``[4658:4147,...]``);
  LTV1/LTV2 follow these wrong sections.
* Binned frames: LTV = (1 - s)/b ignores where a binned pixel's centre lies,
  off by (b - 1)/(2b) from the IRAF convention (docs/processing.md, fixDETSEC).
* ATV2 of IM3/IM4 is -1544 wrapped to 63992: azcam keeps amplifier positions in
  ``uint16`` arrays, and NumPy 2 no longer widens the negation.
* AMPSEC always names the full quadrant; CCDSEC1 mixes binned and unbinned units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from astropy.io import fits

from dataman.core.geometry import (
    DETECTOR_COLUMNS,
    DETECTOR_ROWS,
    OVERSCAN_COLUMNS,
    REFERENCE_PIXEL,
    Section,
)
from dataman.sim.readout import ReadoutMode

#: The rule azcam writes above and below the title of every header group.
RULE = "=" * 66
#: Order of azcam's header groups in the primary header (creation order of the MODS server's tools).
HEADER_ORDER = (
    "system", "controller", "exposure", "tempcon", "instrument", "focalplane", "telescope",
)

# The MODS azcam server's focal plane: amplifier flip (0 none, 1 in x) and position (x, y) per IMn.
AMP_FLIP = (0, 1, 0, 1)
EXT_POSITION = ((1, 1), (2, 1), (1, 2), (2, 2))
GAIN = 2.9  # e-/DN, as the MODS server configures it (not a measured value)
READ_NOISE = 4.0  # e-, likewise
WCS_SCALE = -0.000125  # deg/pixel for both axes, as the MODS server configures it
WCS_ROTATION = 90.0  # deg
QUADRANT_COLUMNS, QUADRANT_ROWS = DETECTOR_COLUMNS // 2, DETECTOR_ROWS // 2  # azcam's ampvispix

Card = tuple[str, object, str]


@dataclass
class KeywordGroup:
    """One azcam header object: written under a titled comment block, keywords sorted by name."""

    name: str
    title: str
    cards: list[Card] = field(default_factory=list)


def primary_header(
    readout: ReadoutMode, filename: str, groups: dict[str, KeywordGroup]
) -> fits.Header:
    """The primary header azcam writes: its structural cards, then each non-empty group in order."""
    header = fits.PrimaryHDU().header
    b = readout.binning
    header.append(("NEXTEND", 4, "Number of extensions"))  # azcam counts IMn only, not CONPARS
    header.append(("DETSIZE", f"[1:{DETECTOR_COLUMNS},1:{DETECTOR_ROWS}]", "Detector size"))
    header.append(("CCDSUM", f"{b} {b}", "CCD pixel summing"))
    header.append(("CCDBIN1", b, "Binning factor along axis 1"))
    header.append(("CCDBIN2", b, "Binning factor along axis 2"))
    header.append(("FILENAME", filename, "base filename at acquisition"))
    header.append(("NCCDS", 1, "Number of CCDs"))
    header.append(("NAMPS", 4, "Number of amplifiers"))
    everything = {"focalplane": focalplane_group(), **groups}
    for name in HEADER_ORDER:
        group = everything.get(name)
        if group is not None and group.cards:
            _append_group(header, group.title, sorted(group.cards, key=lambda card: card[0]))
    return header


def focalplane_group() -> KeywordGroup:
    """The primary-header keywords of azcam's focal plane object (REF-PIX1/2 among them)."""
    return KeywordGroup(
        "focalplane",
        "AzCam Focal plane",
        [
            ("AZCAM-HEAD", "OK", "AzCam Header flag"),
            ("N-AMPS-X", 2, "Number of amplifiers in X"),
            ("N-AMPS-Y", 2, "Number of amplifiers in Y"),
            ("N-DET-X", 1, "Number of detectors in X"),
            ("N-DET-Y", 1, "Number of detectors in Y"),
            ("NUM-AMPX", 2, "Number of amplifiers in X"),
            ("NUM-AMPY", 2, "Number of amplifiers in Y"),
            ("NUM-DETX", 1, "Number of detectors in X"),
            ("NUM-DETY", 1, "Number of detectors in Y"),
            ("REF-PIX1", REFERENCE_PIXEL[0], "Reference pixel 1"),
            ("REF-PIX2", REFERENCE_PIXEL[1], "Reference pixel 2"),
        ],
    )


def extension_cards(readout: ReadoutMode, amp: int) -> list[Card]:
    """Every card azcam writes in IMn after EXTNAME/BZERO/BSCALE, in azcam's order."""
    return [
        ("INHERIT", True, "extension inherits PHDU keyword/values?"),
        ("BUNIT", "ADU", "Physical unit of array values"),
        *_titled("Image", _image_cards(readout, amp)),
        *_titled("WCS", _wcs_cards(readout, amp)),
        *_titled("AzCam Focal plane", _focalplane_cards(readout, amp)),
    ]


def azcam_detsec(readout: ReadoutMode, amp: int) -> Section:
    """azcam's DETSEC (= CCDSEC) of amplifier ``amp``: right for full frames, not for subframes."""
    nx, ny = EXT_POSITION[amp - 1]
    first_col, first_row = _first_pixel(readout)
    x = ((nx - 1) * QUADRANT_COLUMNS + first_col, nx * QUADRANT_COLUMNS)
    y = ((ny - 1) * QUADRANT_ROWS + first_row, ny * QUADRANT_ROWS)
    if AMP_FLIP[amp - 1]:
        x = (x[1], x[0])
    return Section(x[0], x[1], y[0], y[1])


def _first_pixel(readout: ReadoutMode) -> tuple[int, int]:
    """First detector column and row of the window, as the MODS server passes them to set_roi."""
    c0, r0 = REFERENCE_PIXEL
    return c0 - readout.width + 1, r0 - readout.height + 1


def _image_cards(readout: ReadoutMode, amp: int) -> list[Card]:
    b, columns, rows = readout.binning, readout.data_columns, readout.rows
    flip_x = -1 if AMP_FLIP[amp - 1] else 1
    nx, ny = EXT_POSITION[amp - 1]
    detsec = azcam_detsec(readout, amp)
    size = f"[1:{DETECTOR_COLUMNS},1:{DETECTOR_ROWS}]"
    ampsec = (QUADRANT_COLUMNS, 1) if flip_x < 0 else (1, QUADRANT_COLUMNS)
    transformation = "CCD to image transformation"
    return [
        ("IMAGEID", amp, "Image ID"),
        ("CCDNAME", "ccd1", "CCD name"),
        ("DETSIZE", size, "Detector size"),
        ("CCDSIZE", size, "CCD size"),
        ("BIASSEC", f"[{columns + 1}:{columns + OVERSCAN_COLUMNS},1:{rows}]", "Bias section"),
        ("DATASEC", f"[1:{columns},1:{rows}]", "Data section"),
        ("TRIMSEC", f"[1:{columns},1:{rows}]", "Trim section"),
        ("AMPSEC", f"[{ampsec[0]}:{ampsec[1]},1:{QUADRANT_ROWS}]", "Amplifier section"),
        ("DETSEC", str(detsec), "Detector section"),
        ("CCDSEC", str(detsec), "CCD section"),
        ("CCDSEC1", _binned_ccdsec(readout, amp), "CCD section with binning"),
        ("OVRSCAN1", OVERSCAN_COLUMNS, "Overscan on axis 1"),
        ("OVRSCAN2", 0, "Overscan on axis 2"),
        ("PRESCAN1", 0, "Underscan on axis 1"),
        ("PRESCAN2", 0, "Underscan on axis 2"),
        ("CCDSUM", f"{b} {b}", "CCD pixel summing"),
        # azcam keeps LTM/LTV in float32 arrays; the values here are exact in float32.
        ("LTM1_1", np.float32(flip_x / b), transformation),
        ("LTM2_2", np.float32(1 / b), transformation),
        ("LTV1", np.float32((-flip_x * detsec.x1 + 1) / b), transformation),
        ("LTV2", np.float32((-detsec.y1 + 1) / b), transformation),
        ("ATM1_1", flip_x, "CCD to amplifier transformation"),
        ("ATM2_2", 1, "CCD to amplifier transformation"),
        ("ATV1", _uint16(QUADRANT_COLUMNS * nx + 1 if flip_x < 0 else -QUADRANT_COLUMNS * (nx - 1)),
         "CCD to amplifier transformation"),
        ("ATV2", _uint16(-QUADRANT_ROWS * (ny - 1)), "CCD to amplifier transformation"),
        ("DTM1_1", 1, "CCD to detector transformation"),
        ("DTM2_2", 1, "CCD to detector transformation"),
        ("DTV1", 0, "CCD to detector transformation"),
        ("DTV2", 0, "CCD to detector transformation"),
    ]


def _binned_ccdsec(readout: ReadoutMode, amp: int) -> str:
    """azcam's CCDSEC1: skips divided by the binning, quadrant ends not; values truncated."""
    b = readout.binning
    nx, _ = EXT_POSITION[amp - 1]
    first_col, first_row = _first_pixel(readout)
    skip_x, skip_y = first_col - 1, first_row - 1
    last_row = first_row - 1 + 2 * readout.height
    if AMP_FLIP[amp - 1]:
        x = ((nx * QUADRANT_COLUMNS - skip_x) / b, ((nx - 1) * QUADRANT_COLUMNS - skip_x) / b)
    else:
        x = (skip_x / b + 1, (QUADRANT_COLUMNS - skip_x) / b)
    y = (skip_y / b + 1, (QUADRANT_ROWS - max(0, QUADRANT_ROWS - last_row)) / b)
    x1, x2, y1, y2 = (int(max(1, value)) for value in (*x, *y))
    return f"[{x1}:{x2},{y1}:{y2}]"


def _wcs_cards(readout: ReadoutMode, amp: int) -> list[Card]:
    b = readout.binning
    flip_x = -1 if AMP_FLIP[amp - 1] else 1
    first_col, first_row = _first_pixel(readout)
    amp_pix1, amp_pix2 = _amplifier_pixel(readout, amp)
    crpix1 = ((float(REFERENCE_PIXEL[0]) - amp_pix1) * flip_x - (first_col - 1)) / b
    crpix2 = ((float(REFERENCE_PIXEL[1]) - amp_pix2) * 1 - (first_row - 1)) / b
    # Same operation order as azcam, so the float values agree to the last bit.
    angle = WCS_ROTATION * 2 * math.pi / 360.0
    cd11 = (WCS_SCALE * b * math.cos(angle)) * flip_x
    cd12 = (WCS_SCALE * b * (-math.sin(angle))) * 1
    cd21 = (WCS_SCALE * b * math.sin(angle)) * flip_x
    cd22 = (WCS_SCALE * b * math.cos(angle)) * 1
    return [
        ("EQUINOX", 2000, "Equinox of WCS"),
        ("WCSDIM", 2, "WCS Dimensionality"),
        ("CTYPE1", "RA---TAN", "Coordinate type"),
        ("CTYPE2", "DEC--TAN", "Coordinate type"),
        # azcam's fallback when its telescope object has no RA/DEC keywords, as on MODS.
        ("CRVAL1", 0.0, "Coordinate reference value"),
        ("CRVAL2", 0.0, "Coordinate reference value"),
        ("CRPIX1", crpix1, "Coordinate reference pixel"),
        ("CRPIX2", crpix2, "Coordinate reference pixel"),
        ("CD1_1", cd11, "Coordinate matrix"),
        ("CD1_2", cd12, "Coordinate matrix"),
        ("CD2_1", cd21, "Coordinate matrix"),
        ("CD2_2", cd22, "Coordinate matrix"),
    ]


def _amplifier_pixel(readout: ReadoutMode, amp: int) -> tuple[int, int]:
    """azcam's AMP-PIX1/2: the amplifier's corner within the *window*, not the detector."""
    nx, ny = EXT_POSITION[amp - 1]
    flip = AMP_FLIP[amp - 1]
    return (nx - 1 + flip) * readout.width + 1 - flip, (ny - 1) * readout.height + 1


def _focalplane_cards(readout: ReadoutMode, amp: int) -> list[Card]:
    nx, ny = EXT_POSITION[amp - 1]
    amp_pix1, amp_pix2 = _amplifier_pixel(readout, amp)
    return [
        ("AMP-CFG", AMP_FLIP[amp - 1], "Amplifier configuration"),
        ("DET-NUM", 1, "Detector number"),
        ("EXT-NUM", amp, "extension number"),
        ("JPG-EXT", amp, "Image section"),
        ("DET-POSX", 1, "Detector position in X"),
        ("DET-POSY", 1, "Detector position in Y"),
        ("EXT-POSX", nx, "Amplifier position in X"),
        ("EXT-POSY", ny, "Amplifier position in Y"),
        ("AMP-PIX1", amp_pix1, "Amplifier pixel position in X"),
        ("AMP-PIX2", amp_pix2, "Amplifier pixel position in Y"),
        ("GAIN", GAIN, "Amplifier gain"),
        ("RDNOISE", READ_NOISE, "Amplifier read noise"),
    ]


def _uint16(value: int) -> int:
    """A value as azcam's uint16 position arithmetic leaves it under NumPy 2 (modulo 2**16)."""
    return value % 65536


def _titled(title: str, cards: list[Card]) -> list[Card]:
    return [("COMMENT", RULE, ""), ("COMMENT", title, ""), ("COMMENT", RULE, ""), *cards]


def _append_group(header: fits.Header, title: str, cards: list[Card]) -> None:
    for keyword, value, comment in _titled(title, cards):
        # bottom=True: astropy would otherwise slide keywords above trailing COMMENT cards.
        header.append(make_card(keyword, value, comment), bottom=True)


def make_card(keyword: str, value: object, comment: str = "") -> fits.Card:
    """A card for ``keyword``; names longer than 8 characters become HIERARCH cards, as in azcam."""
    if keyword == "COMMENT":
        return fits.Card(keyword, value)
    name = f"HIERARCH {keyword}" if len(keyword) > 8 else keyword
    return fits.Card(name, value, comment)
