"""The night's setup checklist: for each setup observed, are its calibrations there?

Science is only as good as the flats and arcs taken in the same setup: the
same channel (INSTRUME), disperser (GRATNAME), filter (FILTNAME) and slit mask
(MASKNAME), read out with the same binning and readout region. A flat or an
arc of another grating, mask or binning does not calibrate it. A bias does
not see the light path: it matches on the detector's readout alone (channel,
binning, region). A calibration the image-type checks flagged (``FLAT:dim``,
``COMP:lines``, ...) does not count: it is no calibration.

>>> frames = [SetupFrame(SETUP, "OBJECT")] * 4 + [SetupFrame(SETUP, "FLAT")] * 3
>>> print(checklist(frames)[0].line())
MODS1B G400L Clear / LS5x60x1.0 / 1x1 full: 4 OBJECT, 0 BIAS, 3 FLAT, 0 COMP: no biases or arcs yet
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from dataman.core.quality.report import is_image_type_flag

#: Calibration image types, in the order the checklist names them, and their plural.
CALIBRATIONS = (("BIAS", "biases"), ("FLAT", "flats"), ("COMP", "arcs"))


@dataclass(frozen=True, order=True)
class Setup:
    """What must match between science and its calibrations."""

    instrument: str
    grating: str
    filter: str
    mask: str
    binning: str
    roi: str

    @property
    def readout(self) -> tuple[str, str, str]:
        """What a bias must match: the channel and how the detector is read."""
        return self.instrument, self.binning, self.roi

    def label(self) -> str:
        """``'MODS1B G400L Clear / LS5x60x1.0 / 1x1 full'``."""
        return (f"{self.instrument} {self.grating or '?'} {self.filter or '?'} / "
                f"{self.mask or '?'} / {self.binning or '?'} {self.roi or '?'}")


SETUP = Setup("MODS1B", "G400L", "Clear", "LS5x60x1.0", "1x1", "full")


@dataclass(frozen=True)
class SetupFrame:
    """One processed frame of the night: its setup, IMAGETYP and quality flags."""

    setup: Setup
    imagetyp: str
    flags: str = ""


@dataclass(frozen=True)
class SetupStatus:
    """A setup with science, and how many of each calibration it has tonight."""

    setup: Setup
    objects: int
    biases: int
    flats: int
    comps: int

    @property
    def missing(self) -> tuple[str, ...]:
        """The calibrations it has none of, as observers say them: biases, flats, arcs."""
        counts = (self.biases, self.flats, self.comps)
        return tuple(plural for (_, plural), count in zip(CALIBRATIONS, counts, strict=True)
                     if count == 0)

    def verdict(self) -> str:
        """``'complete'`` or ``'no flats or arcs yet'``."""
        if not self.missing:
            return "complete"
        return "no " + " or ".join(self.missing) + " yet"

    def counts(self) -> str:
        return (f"{self.objects} OBJECT, {self.biases} BIAS, {self.flats} FLAT, "
                f"{self.comps} COMP")

    def line(self) -> str:
        return f"{self.setup.label()}: {self.counts()}: {self.verdict()}"


def counts_as_calibration(frame: SetupFrame) -> bool:
    """False for a calibration its image-type check found useless."""
    return not any(is_image_type_flag(flag) for flag in frame.flags.split())


def checklist(frames: Iterable[SetupFrame]) -> list[SetupStatus]:
    """Each setup with OBJECT frames, with its calibrations counted: those lacking some
    first (what an observer can still act on), each group in setup order."""
    objects: Counter[Setup] = Counter()
    calibrations: Counter[tuple[str, object]] = Counter()
    for frame in frames:
        kind = frame.imagetyp.upper()
        if kind == "OBJECT":
            objects[frame.setup] += 1
        elif kind == "BIAS" and counts_as_calibration(frame):
            calibrations[kind, frame.setup.readout] += 1
        elif kind in ("FLAT", "COMP") and counts_as_calibration(frame):
            calibrations[kind, frame.setup] += 1
    statuses = [SetupStatus(setup, count, calibrations["BIAS", setup.readout],
                            calibrations["FLAT", setup], calibrations["COMP", setup])
                for setup, count in sorted(objects.items())]
    return sorted(statuses, key=lambda status: not status.missing)
