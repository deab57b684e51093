"""Frame quality: checks on every frame in the worker, from the pixels already in memory.

:func:`dataman.core.quality.assess.assess` runs them (``docs/processing.md``,
"Quality checks"); :class:`QualityReport` is what they found; :class:`BiasTrend`
is the night's running bias level that the bias-jump check carries from frame
to frame. This package's top level needs nothing but the standard library, so
the supervisor and the job messages can speak of a report without numpy.
"""

from dataman.core.quality.report import AmpQuality, Finding, QualityReport, Status, header_cards
from dataman.core.quality.trend import BiasTrend

__all__ = ["AmpQuality", "BiasTrend", "Finding", "QualityReport", "Status", "header_cards"]
