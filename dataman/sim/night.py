"""When each exposure of a simulated night starts, and of which kind it is.

A MODS night opens with calibrations in the afternoon (biases, flats, arcs)
and observes after dark. The simulated night changes its setup half-way: four
objects through the 1.0" slit (``LS5x60x1.0``, calibrated in the afternoon),
then two flats and the rest of the objects through the 0.6" slit
(``LS5x60x0.6``), for which nobody took arcs: the night's setup checklist
(``docs/processing.md``) has something to say. Times are UTC for the LBT (local time UTC-7):
calibrations from 14:00 local, which is 21:00 UTC the day *before* the
night's date, science from 20:12 local; so each frame's DATE-OBS lies in the
observing night its file name carries (docs/processing.md: from local noon on, the
observing date is the next UTC date).

>>> plan = itertools.islice(channel_exposures("night", "MODS1B", "20251230"), 16)
>>> [kind for kind, _, _ in plan][8:]
['object', 'object', 'object', 'object', 'flat', 'flat', 'object', 'object']
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

from dataman.sim.setups import KINDS, default_exptime

#: A night's opening calibrations per channel, in order; objects follow until the count is done.
CALIBRATION_PLAN = (("bias", 3), ("flat", 3), ("comp", 2))
#: After dark: (kind, count, setup); the last entry's objects go on until the count is done.
SCIENCE_PLAN = (("object", 4, "wide"), ("flat", 2, "narrow"), ("object", None, "narrow"))
#: Primary keywords of each setup, as FrameSpec.primary overrides: the 1.0" slit of the
#: header tables, or the 0.6" one in the next cassette position.
SETUPS: dict[str, dict[str, object]] = {
    "wide": {}, "narrow": {"MASKNAME": "LS5x60x0.6", "SLITMASK": 6}}
#: ``--kind`` choices: one kind of exposure, or the plan of a night.
PLANS = (*KINDS, "night")
#: Start of the first science exposure (20:12:45.123 local), on the night's date.
SCIENCE_START = time(3, 12, 45, 123000, tzinfo=UTC)
#: Start of the afternoon calibrations (14:00 local), on the day before the night's date.
CALIBRATION_START = time(21, 0, tzinfo=UTC)
#: Between the starts of consecutive science frames (s): 300 s exposure, readout, overheads.
SCIENCE_INTERVAL = 360.0
#: Readout and set-up between the end of a calibration exposure and the next start (s).
CALIBRATION_OVERHEAD = 60.0


def setup_keywords(kind: str, setup: str) -> dict[str, object]:
    """The primary keywords of ``setup``; a calibration's OBJECT names its slit mask."""
    keywords = dict(SETUPS[setup])
    mask = keywords.get("MASKNAME")
    if mask is not None and KINDS[kind].calibration and kind != "bias":
        keywords["OBJECT"] = KINDS[kind].title.replace("LS5x60x1.0", str(mask))
    return keywords


def channel_exposures(plan: str, instrument: str,
                      night: str) -> Iterator[tuple[str, datetime, dict[str, object]]]:
    """(kind, start, setup keywords) of one channel's successive exposures, without end.

    ``plan`` is a kind of exposure (every frame of that kind, in the afternoon's
    setup) or ``night`` (:data:`CALIBRATION_PLAN` in the afternoon, then
    :data:`SCIENCE_PLAN` after dark).
    """
    if plan not in PLANS:
        raise ValueError(f"unknown plan {plan!r}; one of {', '.join(PLANS)}")
    date = datetime.strptime(night, "%Y%m%d").date()
    if plan == "night":
        steps: Iterator[tuple[str, str, bool]] = itertools.chain(
            *(itertools.repeat((kind, "wide", False), count) for kind, count in CALIBRATION_PLAN),
            *(itertools.repeat((kind, setup, True), *(() if count is None else (count,)))
              for kind, count, setup in SCIENCE_PLAN))
    else:
        steps = itertools.repeat((plan, "wide", plan == "object"))
    afternoon = datetime.combine(date - timedelta(days=1), CALIBRATION_START)
    science = itertools.count()
    for kind, setup, after_dark in steps:
        if after_dark:
            yield kind, datetime.combine(date, SCIENCE_START) + timedelta(
                seconds=next(science) * SCIENCE_INTERVAL), setup_keywords(kind, setup)
        else:
            yield kind, afternoon, setup_keywords(kind, setup)
            afternoon += timedelta(
                seconds=default_exptime(kind, instrument) + CALIBRATION_OVERHEAD)
