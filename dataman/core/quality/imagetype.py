"""Sanity by image type: is this frame what IMAGETYP says it is?

A calibration that is useless is found the next day, when nothing can be done:
a bias with light on it, a flat with the lamp off or near saturation, an arc
whose lamps did not fire, a science frame whose shutter stayed shut. Each
shows in a *column profile*: for every data column of an amplifier, the median
of ``SAMPLE_ROWS`` evenly spaced rows, less the amplifier's bias (overscan
median). MODS disperses along columns and images the slit along rows, so the
profile is the spectrum through the slit: a lamp's or the sky's lines are
peaks, the flat lamp or sky continuum its level, and a cosmic ray, on one row
of one column, is outvoted. From the profiles of the four amplifiers:

* ``level``: the highest of the amplifiers' median columns (DN above bias);
* ``peak``: the brightest column of any amplifier (DN above bias);
* ``lines``: distinct emission lines, local maxima at least ``lineMin`` above
  the profile's median; IM1 and IM3 see the same columns (as do IM2 and IM4),
  so each half of the detector counts with its amplifier that sees more.

Flags (``docs/processing.md``, "Quality checks"; thresholds in ``[quality]``):
``BIAS:light``, ``FLAT:dim``, ``FLAT:saturated``, ``COMP:lines``, ``OBJECT:dark``.

>>> profile = np.zeros(50, dtype=np.float32); profile[[10, 30]] = [400.0, 90.0]
>>> emission_lines(profile, 50.0)
2
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from dataman.core.config import QualityConfig
from dataman.core.frame import EXPECTED_BZERO
from dataman.core.quality.report import Finding

#: Rows per amplifier whose median makes the column profile.
SAMPLE_ROWS = 24
#: Amplifiers that see the same detector columns: the left and the right half.
HALVES = (("IM1", "IM3"), ("IM2", "IM4"))


@dataclass(frozen=True)
class Light:
    """What the frame's column profiles show (DN above bias)."""

    level: float
    peak: float
    lines: int


def column_profile(stored: np.ndarray, columns: int, bias: float) -> np.ndarray:
    """Per data column, the median of evenly spaced rows less ``bias`` (float32)."""
    data = stored[:, :columns]
    step = max(1, data.shape[0] // SAMPLE_ROWS)
    sample = data[::step][:SAMPLE_ROWS].astype(np.float32)  # a small native copy
    middle = sample.shape[0] // 2
    sample.partition(middle, axis=0)  # row by row: the fastest way in numpy
    profile = sample[middle]
    if sample.shape[0] % 2 == 0:  # the mean of the two middle values, as a median is
        profile = 0.5 * (profile + sample[:middle].max(axis=0))
    return profile + np.float32(EXPECTED_BZERO - bias)


def emission_lines(profile: np.ndarray, line_min: float) -> int:
    """Local maxima of ``profile`` at least ``line_min`` above its median."""
    if profile.size < 3:
        return 0
    inner = profile[1:-1]
    high = inner >= np.float32(np.median(profile) + line_min)
    return int(np.count_nonzero(high & (inner > profile[:-2]) & (inner >= profile[2:])))


def measure_light(profiles: dict[str, np.ndarray], line_min: float) -> Light:
    """``level``, ``peak`` and ``lines`` of a frame from its amplifiers' column profiles."""
    if not profiles or all(profile.size == 0 for profile in profiles.values()):
        return Light(0.0, 0.0, 0)
    level = max(float(np.median(p)) for p in profiles.values() if p.size)
    peak = max(float(p.max()) for p in profiles.values() if p.size)
    lines = sum(max((emission_lines(profiles[amp], line_min) for amp in half
                     if amp in profiles), default=0) for half in HALVES)
    return Light(level, peak, lines)


def image_type_findings(imagetyp: str, light: Light, settings: QualityConfig) -> list[Finding]:
    """The failed sanity check of a frame of type ``imagetyp`` (upper case), if any."""
    return [Finding(flag, reason) for flag, reason in _reasons(imagetyp, light, settings)]


def _reasons(imagetyp: str, light: Light,
             settings: QualityConfig) -> Iterable[tuple[str, str]]:
    if imagetyp == "BIAS":
        if light.level > settings.bias_light:
            yield "BIAS:light", (f"BIAS has light: level {light.level:.1f} DN above its "
                                 f"bias (limit {settings.bias_light:g}): light leak or lamp on")
        elif light.lines >= settings.comp_min_lines:
            yield "BIAS:light", (f"BIAS shows {light.lines} emission lines: an arc lamp on")
    elif imagetyp == "FLAT":
        if light.level < settings.flat_min:
            yield "FLAT:dim", (f"FLAT level {light.level:.0f} DN above bias, below "
                               f"{settings.flat_min:g}: lamp off?")
        elif light.peak > settings.flat_max:
            yield "FLAT:saturated", (f"FLAT peaks at {light.peak:.0f} DN above bias, above "
                                     f"{settings.flat_max:g}: near or at saturation")
    elif imagetyp == "COMP" and light.lines < settings.comp_min_lines:
        yield "COMP:lines", (f"COMP shows {light.lines} emission lines, fewer than "
                             f"{settings.comp_min_lines}: lamps did not fire?")
    elif imagetyp == "OBJECT" and light.level < settings.object_light and light.lines == 0:
        yield "OBJECT:dark", (f"OBJECT no brighter than a bias: level {light.level:.1f} DN, "
                              f"no lines (limit {settings.object_light:g}): shutter closed?")
