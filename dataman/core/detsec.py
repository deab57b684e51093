"""fixDETSEC: detector sections and IRAF logical transforms of IM1..IM4 (docs/processing.md).

azcam anchors the sections of IM2..IM4 to the far detector edges in subframes
and gets LTV slightly wrong for binned frames; both are recomputed here from
the readout geometry alone, so the result does not depend on what azcam wrote.
"""

from __future__ import annotations

from dataman.core.frame import RawFrame
from dataman.core.geometry import Section, amplifier_section
from dataman.core.readout import Readout

#: The keywords ``fix_detsec`` rewrites in every IMn header.
KEYWORDS = ("DETSEC", "CCDSEC", "LTM1_1", "LTM2_2", "LTV1", "LTV2")


def logical_offset(start: int, binning: int, reversed_axis: bool) -> float:
    """LTV along one axis, IRAF convention ``I = LTM * C + LTV``.

    Chosen so the centre of image pixel 1 lands on the centre of the first
    binned detector pixel it covers; ``start`` is the section's first value as
    written (its high end when the axis runs backwards).

    >>> logical_offset(4147, 1, False), logical_offset(8292, 1, True)
    (-4146.0, 8293.0)
    >>> logical_offset(1, 2, False)
    0.25
    """
    half = (binning - 1) / 2
    if reversed_axis:
        return 1 + (start - half) / binning
    return 1 - (start + half) / binning


def amplifier_keywords(amp: int, readout: Readout) -> dict[str, str | float]:
    """DETSEC, CCDSEC, LTM1_1, LTM2_2, LTV1, LTV2 for amplifier ``amp`` (1..4)."""
    section: Section = amplifier_section(amp, c0=readout.c0, r0=readout.r0,
                                         width=readout.width, height=readout.height)
    xsign = -1.0 if section.x_reversed else 1.0
    return {
        "DETSEC": str(section),
        "CCDSEC": str(section),
        "LTM1_1": xsign / readout.xbin,
        "LTM2_2": 1.0 / readout.ybin,
        "LTV1": logical_offset(section.x1, readout.xbin, section.x_reversed),
        "LTV2": logical_offset(section.y1, readout.ybin, section.y_reversed),
    }


def fix_detsec(frame: RawFrame, readout: Readout) -> list[str]:
    """Rewrite the fixDETSEC keywords of every IMn in place; returns warnings (none)."""
    for number, amp in enumerate(frame.amps, start=1):
        for key, value in amplifier_keywords(number, readout).items():
            amp.header[key] = value
    return []
