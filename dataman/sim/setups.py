"""How a MODS channel is set up, and what each kind of exposure of a night changes.

The mechanisms are in the usual dual-grating long-slit configuration: the
``Dual`` dichroic, the ``LS5x60x1.0`` slit mask, grating G400L with the Clear
filter in the blue channel, G670L with GG495 in the red one. Turret positions
and names are those of the instrument's mechanism tables (``bgrating.tab``,
``rgrating.tab``, ``bfilter.tab``, ``rfilter.tab`` of MODS1 and MODS2 alike);
pixel scales and detector names those of the azcam header templates. Focus and
tip-tilt readings are plausible, not measured.

A night's exposures differ in IMAGETYP (the lower-case image types the MODS
azcam server accepts), OBJECT, exposure time and the calibration unit: for a
calibration the dark hatch is closed and the calibration tower in. Flats use
the variable-intensity lamp at the levels of the MODS photon-transfer scripts
(2.5 blue, 1.5 red); the arc lamps named for a comparison are a plausible
choice of MODS's Hg, Ar, Ne, Xe and Kr lamps.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Channel:
    """The fixed set-up of one spectrograph channel."""

    name: str  # Blue or Red, as the instrument header comments name it
    pixel_scale: float  # arcsec per unbinned pixel
    grating: tuple[int, str]  # turret position, disperser name
    filter: tuple[int, str]  # filter wheel position, filter name
    collimator_ttf: tuple[float, float, float]  # tip-tilt-focus actuators A, B, C (microns)
    camera_focus: float  # microns


BLUE = Channel("Blue", 0.120, (2, "G400L"), (1, "Clear"), (4521.0, 4498.0, 4536.0), 2405.0)
RED = Channel("Red", 0.123, (2, "G670L"), (5, "GG495"), (5213.0, 5187.0, 5240.0), 2652.0)


def channel_of(instrument: str) -> Channel:
    """MODS1B, MODS2B -> blue; MODS1R, MODS2R -> red."""
    return BLUE if instrument.endswith("B") else RED


@dataclass(frozen=True)
class Kind:
    """What one kind of exposure writes; pairs are (blue, red)."""

    imagetyp: str
    title: str  # OBJECT
    exptime: tuple[float, float]  # seconds
    lamps: tuple[str, str]  # CALLAMPS
    vflat: tuple[float, float]  # VFLAT lamp intensity
    calibration: bool  # hatch closed, calibration tower in


KINDS: dict[str, Kind] = {
    "bias": Kind("bias", "Bias", (0.0, 0.0), ("None", "None"), (0.0, 0.0), True),
    "flat": Kind("flat", "Slit flat LS5x60x1.0", (8.0, 3.0), ("VFLAT", "VFLAT"), (2.5, 1.5),
                 True),
    "comp": Kind("comp", "Arc lamps LS5x60x1.0", (40.0, 15.0), ("Hg Ar Xe Kr", "Ne Ar Kr"),
                 (0.0, 0.0), True),
    "object": Kind("object", "NGC 1976", (300.0, 300.0), ("None", "None"), (0.0, 0.0), False),
}
CALIBRATIONS = tuple(name for name, kind in KINDS.items() if kind.calibration)


def kind_of(name: str) -> Kind:
    """The kind called ``name``; ValueError naming the known ones otherwise."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown kind of exposure {name!r}; one of {', '.join(KINDS)}") from None


def default_exptime(kind: str, instrument: str) -> float:
    """The usual exposure time (s) of ``kind`` in the channel of ``instrument``."""
    return kind_of(kind).exptime[int(channel_of(instrument) is RED)]


def instrument_values(instrument: str, kind: str) -> dict[str, object]:
    """The instrument-group values that depend on the channel and the kind of exposure."""
    channel, exposure = channel_of(instrument), kind_of(kind)
    red = channel is RED
    ttf_a, ttf_b, ttf_c = channel.collimator_ttf
    return {
        "HATCH": "CLOSED" if exposure.calibration else "OPEN",
        "CALIB": "IN" if exposure.calibration else "OUT",
        "COLTTFA": ttf_a, "COLTTFB": ttf_b, "COLTTFC": ttf_c,
        "COLFOCUS": ttf_a + ttf_b + ttf_c,  # the focus is the sum of the three actuators
        "GRATING": channel.grating[0], "GRATNAME": channel.grating[1],
        "CAMFOCUS": channel.camera_focus,
        "FILTER": channel.filter[0], "FILTNAME": channel.filter[1],
        "CALLAMPS": exposure.lamps[int(red)],
        "VFLAT": exposure.vflat[int(red)],
    }


def system_values(instrument: str) -> dict[str, object]:
    """The system-group values that depend on the MODS unit and channel."""
    channel = channel_of(instrument)
    unit = instrument[4]  # MODS1 or MODS2
    return {
        "INSTRUME": instrument,
        "DEWAR": instrument,
        "CHANNEL": channel.name.upper(),
        "DETECTOR": f"e2v CCD231-68 {channel.name} CCD {unit}",
        "PIXSCALE": channel.pixel_scale,
        "TELESCOP": "LBT-SX" if unit == "1" else "LBT-DX",
    }


def side_of(instrument: str) -> str:
    """SX for MODS1 (left side of the LBT), DX for MODS2 (right side)."""
    return "SX" if instrument[4] == "1" else "DX"
