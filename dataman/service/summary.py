"""The night summary the log gets at the end of each observing night and on ``quit``.

:class:`ObservingNight` notices the night's end (the supervisor asks at each
tick); the functions compute the night's window and the summary's lines.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from dataman.core.names import without_name
from dataman.core.nightlog import observing_date
from dataman.service.journal import Journal, JournalError
from dataman.service.records import NightSummary

log = logging.getLogger("dataman")


def night_window(date: str, utc_offset: float) -> tuple[float, float]:
    """UTC epoch seconds [start, end) of observing date ``date`` (docs/operations.md, "Logs").

    The night of ``20251231`` with utcOffset 7 runs from local noon on Dec 30
    (19:00 UTC) to local noon on Dec 31.

    >>> start, end = night_window("20251231", 7)
    >>> datetime.fromtimestamp(start, UTC).isoformat(), (end - start) / 3600
    ('2025-12-30T19:00:00+00:00', 24.0)
    """
    midnight = datetime.strptime(date, "%Y%m%d").replace(tzinfo=UTC)
    start = midnight - timedelta(hours=12 - utc_offset)
    return start.timestamp(), (start + timedelta(days=1)).timestamp()


def summary_lines(date: str, summary: NightSummary, *, partial: bool = False) -> list[str]:
    """Log lines: counts and latency first, then one line per failed frame with its reason."""
    title = f"night {date} so far" if partial else f"night {date} summary"
    if summary.latency_median is None:
        latency = "latency n/a"
    else:
        latency = (f"latency median {summary.latency_median:.2f}s "
                   f"max {summary.latency_max:.2f}s")
    counts = [f"{summary.requested} requested", f"{summary.delivered} delivered",
              *(f"{count} {word}" for word, count in (("BAD", summary.bad),
                                                      ("WARN", summary.warn)) if count),
              f"{len(summary.failed)} failed"]
    if summary.pending:
        counts.append(f"{summary.pending} not finished")
    lines = [f"{title}: {', '.join(counts)}, {latency}"]
    lines += [f"night {date} failed: {name}: {without_name(reason, name)}"
              for name, reason in summary.failed]
    return lines


#: Lines the journal cannot give (what it failed to record): (date, start, end) -> lines.
Notes = Callable[[str, float, float], list[str]]


def log_night_summary(journal: Journal, date: str, utc_offset: float, *,
                      partial: bool = False, notes: Notes | None = None) -> None:
    start, end = night_window(date, utc_offset)
    extra = notes(date, start, end) if notes is not None else []
    try:
        summary = summary_lines(date, journal.night_summary(start, end), partial=partial)
    except JournalError as error:  # its disk failing: what it could not record still counts
        summary = [f"night {date} summary not available: {error}"]
    for line in summary:
        log.info("%s", line)
    for line in extra:
        log.warning("%s", line)


class ObservingNight:
    """Which observing night it is now; its summary is logged once it has ended.

    ``date`` is the night being counted (the console's counts cover it); it moves
    on at the first :meth:`check` after local noon, which logs the summary of the
    night that ended and tells ``ended`` (the night report is written then).
    """

    def __init__(self, journal: Journal, utc_offset: float, now: Callable[[], float],
                 ended: Callable[[str], object] = lambda date: None,
                 notes: Notes | None = None) -> None:
        self._journal, self._utc_offset, self._now = journal, utc_offset, now
        self._ended, self._notes = ended, notes
        self.date = self.current()

    def current(self) -> str:
        """YYYYMMDD of the observing night at this moment (docs/operations.md, "Logs")."""
        return observing_date(datetime.fromtimestamp(self._now(), UTC), self._utc_offset)

    def check(self) -> None:
        """Log the summary of ``date`` if that night has ended, and move on to the new one."""
        date = self.current()
        if date != self.date:
            log_night_summary(self._journal, self.date, self._utc_offset, notes=self._notes)
            self.date, ended = date, self.date
            self._ended(ended)

    def log_so_far(self) -> None:
        """Log the summary of the night in progress, marked partial (on stop)."""
        log_night_summary(self._journal, self.current(), self._utc_offset, partial=True,
                          notes=self._notes)
