"""Frame quality: checks on every frame in the worker, from the pixels already in memory.

:func:`assess` runs them (``docs/processing.md``, "Quality checks");
:class:`QualityReport` is what they found; :class:`BiasTrend` is the night's
running bias level that the bias-jump check carries from frame to frame.
"""

from dataman.core.quality.assess import assess
from dataman.core.quality.report import AmpQuality, Finding, QualityReport, Status, header_cards
from dataman.core.quality.trend import BiasTrend

__all__ = ["AmpQuality", "BiasTrend", "Finding", "QualityReport", "Status", "assess",
           "header_cards"]
