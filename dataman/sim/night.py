"""When each exposure of a simulated night starts, and of which kind it is.

A MODS night opens with calibrations in the afternoon (biases, flats, arcs)
and observes after dark. Times are UTC for the LBT (local time UTC-7):
calibrations from 14:00 local, which is 21:00 UTC the day *before* the
night's date, science from 20:12 local; so each frame's DATE-OBS lies in the
observing night its file name carries (docs/processing.md: from local noon on, the
observing date is the next UTC date).

>>> [kind for kind, _ in itertools.islice(channel_exposures("night", "MODS1B", "20251230"), 9)]
['bias', 'bias', 'bias', 'flat', 'flat', 'flat', 'comp', 'comp', 'object']
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

from dataman.sim.setups import KINDS, default_exptime

#: A night's opening calibrations per channel, in order; objects follow until the count is done.
CALIBRATION_PLAN = (("bias", 3), ("flat", 3), ("comp", 2))
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


def channel_exposures(plan: str, instrument: str, night: str) -> Iterator[tuple[str, datetime]]:
    """(kind, start) of one channel's successive exposures, without end.

    ``plan`` is a kind of exposure (every frame of that kind) or ``night``
    (:data:`CALIBRATION_PLAN`, then objects).
    """
    if plan not in PLANS:
        raise ValueError(f"unknown plan {plan!r}; one of {', '.join(PLANS)}")
    date = datetime.strptime(night, "%Y%m%d").date()
    if plan == "night":
        kinds: Iterator[str] = itertools.chain(
            *(itertools.repeat(kind, count) for kind, count in CALIBRATION_PLAN),
            itertools.repeat("object"))
    else:
        kinds = itertools.repeat(plan)
    afternoon = datetime.combine(date - timedelta(days=1), CALIBRATION_START)
    science = itertools.count()
    for kind in kinds:
        if kind == "object":
            yield kind, datetime.combine(date, SCIENCE_START) + timedelta(
                seconds=next(science) * SCIENCE_INTERVAL)
        else:
            yield kind, afternoon
            afternoon += timedelta(
                seconds=default_exptime(kind, instrument) + CALIBRATION_OVERHEAD)
