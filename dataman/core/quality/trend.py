"""The night's running bias level per amplifier and binning, for the bias-jump check.

A controller reset or a warming amplifier shows as a bias level that moves
from one frame to the next. :class:`BiasTrend` holds the last bias levels of
the night for each (instrument, amplifier, binning); it is a value: the check
takes one and returns the next, so whoever processes frames in a row carries
it (a service worker from job to job, ``dataman process`` from file to file).
Each service worker carries its own, so it sees the frames that worker ran: a
jump is still caught, after ``biasJumpAfter`` of that worker's frames.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

#: Bias levels kept per key: the median follows a lasting change after half as many frames.
WINDOW = 25

#: (instrument, amplifier, binning), e.g. ``("MODS1B", "IM2", "1x1")``.
TrendKey = tuple[str, str, str]


@dataclass(frozen=True)
class BiasTrend:
    """Recent bias levels of one observing night; an empty trend knows nothing yet.

    >>> trend = BiasTrend().add("20251230", {("MODS1B", "IM1", "1x1"): 1011.0})
    >>> trend.add("20251230", {("MODS1B", "IM1", "1x1"): 1013.0}).median(("MODS1B", "IM1", "1x1"))
    1012.0
    >>> trend.add("20251231", {}).count(("MODS1B", "IM1", "1x1"))  # a new night starts afresh
    0
    """

    night: str = ""
    levels: Mapping[TrendKey, tuple[float, ...]] = field(
        default_factory=lambda: MappingProxyType({}))

    def count(self, key: TrendKey) -> int:
        return len(self.levels.get(key, ()))

    def median(self, key: TrendKey) -> float | None:
        values = self.levels.get(key)
        return statistics.median(values) if values else None

    def for_night(self, night: str) -> BiasTrend:
        """This trend, or an empty one when ``night`` is another night."""
        return self if night == self.night else BiasTrend(night)

    def add(self, night: str, levels: Mapping[TrendKey, float]) -> BiasTrend:
        """The trend after a frame of ``night`` with these bias levels."""
        current = dict(self.for_night(night).levels)
        for key, level in levels.items():
            current[key] = (*current.get(key, ()), level)[-WINDOW:]
        return BiasTrend(night, MappingProxyType(current))
