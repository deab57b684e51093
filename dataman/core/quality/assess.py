"""All the checks of one frame, from what is already in memory: no second read of the file.

The amplifier checks use the stored pixels of IM1..IM4 (still in the slot)
and the overscan bias and noise that makeOTM computed; the header check uses
the primary header after the fixes. :func:`assess` returns the report and the
night's bias trend with this frame added (:mod:`dataman.core.quality.trend`).
"""

from __future__ import annotations

from astropy.io import fits

from dataman.core.config import QualityConfig
from dataman.core.frame import AmpImage
from dataman.core.keywords import text_value
from dataman.core.otm import PLACEMENTS, QuadrantStats
from dataman.core.quality.amplifiers import amplifier_findings
from dataman.core.quality.headers import header_findings
from dataman.core.quality.pixels import measure
from dataman.core.quality.report import AmpQuality, Finding, QualityReport
from dataman.core.quality.trend import BiasTrend, TrendKey

QUADRANT_OF = {place.amp: place.quadrant for place in PLACEMENTS}


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
        bands = settings.bands.get(instrument or "")
        measured = {amp.name: measure(amp.stored, columns, settings.saturation_max / 2)
                    for amp in amps}
        for amp in amps:
            item, pixels = by_quadrant[QUADRANT_OF[amp.name]], measured[amp.name]
            key = (instrument or "", amp.name, binning)
            enough = trend.count(key) >= settings.bias_jump_after
            found = amplifier_findings(
                amp.name, item.bias, item.noise, pixels, imagetyp=imagetyp, bands=bands,
                night_median=trend.median(key) if enough else None, settings=settings)
            findings += found
            values.append(AmpQuality(amp.name, item.quadrant, item.bias, item.noise,
                                     pixels.saturated))
            if not any(finding.flag == f"{amp.name}:dead" for finding in found):
                levels[key] = item.bias
    if settings.check_header:
        findings += header_findings(primary)
    return QualityReport(tuple(findings), tuple(values)), trend.add(night, levels)

