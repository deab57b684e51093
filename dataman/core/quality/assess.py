"""All the checks of one frame, from what is already in memory: no second read of the file.

The amplifier checks use the stored pixels of IM1..IM4 (still in the slot)
and the overscan bias and noise that makeOTM computed; so does the image-type
check (:mod:`dataman.core.quality.imagetype`), from the same pixels. The header
check uses the primary header after the fixes. An amplifier dark in a frame that
must be lit is dead only when another amplifier is lit (its column profile, which
a cosmic ray does not light): four dark amplifiers are a lamp that did not light,
which the image-type check names. :func:`assess` returns the report and the
night's bias trend with this frame added (:mod:`dataman.core.quality.trend`).
"""

from __future__ import annotations

import numpy as np
from astropy.io import fits

from dataman.core.config import QualityConfig
from dataman.core.frame import AmpImage
from dataman.core.keywords import text_value
from dataman.core.otm import PLACEMENTS, QuadrantStats
from dataman.core.quality.amplifiers import amplifier_findings
from dataman.core.quality.headers import header_findings
from dataman.core.quality.imagetype import (
    column_profile,
    image_type_findings,
    measure_light,
)
from dataman.core.quality.pixels import measure
from dataman.core.quality.report import IMAGE_TYPES, AmpQuality, Finding, QualityReport
from dataman.core.quality.trend import BiasTrend, TrendKey

QUADRANT_OF = {place.amp: place.quadrant for place in PLACEMENTS}
#: Image types whose pixels the image-type check judges.
TYPED = frozenset(IMAGE_TYPES)


def assess(primary: fits.Header, amps: list[AmpImage], columns: int,
           stats: list[QuadrantStats], *, instrument: str | None, binning: str, night: str,
           settings: QualityConfig,
           trend: BiasTrend | None = None) -> tuple[QualityReport, BiasTrend]:
    """Check one frame; ``stats`` empty (no makeOTM) leaves only the header check.

    ``columns`` is the data columns per amplifier; ``binning`` is ``'1x1'`` style.
    A dead amplifier's bias is kept out of the trend.
    """
    trend = (trend or BiasTrend()).for_night(night)
    findings: list[Finding] = []
    values: list[AmpQuality] = []
    levels: dict[TrendKey, float] = {}
    by_quadrant = {item.quadrant: item for item in stats}
    if by_quadrant:
        imagetyp = (text_value(primary, "IMAGETYP") or "").upper()
        biases = {amp.name: by_quadrant[QUADRANT_OF[amp.name]].bias for amp in amps}
        profiles = _profiles(amps, columns, biases, imagetyp, settings)
        if profiles and not any(p.size and p.max() >= settings.lit_min
                                for p in profiles.values()):
            imagetyp_for_dead = ""  # all dark: the lamp, not four amplifiers, failed
        else:
            imagetyp_for_dead = imagetyp
        bands = settings.bands.get(instrument or "")
        for amp in amps:
            item = by_quadrant[QUADRANT_OF[amp.name]]
            pixels = measure(amp.stored, columns, settings.saturation_max / 2)
            key = (instrument or "", amp.name, binning)
            enough = trend.count(key) >= settings.bias_jump_after
            found = amplifier_findings(
                amp.name, item.bias, item.noise, pixels, imagetyp=imagetyp_for_dead,
                bands=bands, night_median=trend.median(key) if enough else None,
                settings=settings)
            findings += found
            values.append(AmpQuality(amp.name, item.quadrant, item.bias, item.noise,
                                     pixels.saturated))
            if not any(finding.flag == f"{amp.name}:dead" for finding in found):
                levels[key] = item.bias
        if settings.check_image_type and imagetyp in TYPED:
            findings += image_type_findings(imagetyp, measure_light(profiles, settings.line_min),
                                            settings)
    if settings.check_header:
        findings += header_findings(primary)
    return QualityReport(tuple(findings), tuple(values)), trend.add(night, levels)



def _profiles(amps: list[AmpImage], columns: int, biases: dict[str, float], imagetyp: str,
              settings: QualityConfig) -> dict[str, np.ndarray]:
    """The amplifiers' column profiles, when a check needs them (else none: they cost)."""
    needed = (settings.check_image_type and imagetyp in TYPED) or (
        settings.check_dead and imagetyp in settings.lit_types)
    if not needed:
        return {}
    return {amp.name: column_profile(amp.stored, columns, biases[amp.name]) for amp in amps}
