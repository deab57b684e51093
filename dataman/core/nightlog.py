"""The per-night log file (docs/operations.md, "Logs"): ``<logDir>/<hostid>dm.<obsdate>.txt``.

Afternoon calibrations belong to the coming night, so from local noon until
local midnight-in-UTC the observing date is already the next UTC date. The
handler switches files when the observing date changes, without a restart.
"""

from __future__ import annotations

import logging
import socket
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

LINE_FORMAT = "%(asctime)s | %(levelname)s | %(message)s"


def observing_date(moment: datetime, utc_offset: float) -> str:
    """YYYYMMDD of the observing night ``moment`` (aware) belongs to.

    >>> observing_date(datetime(2025, 12, 30, 18, 59, tzinfo=UTC), 7)
    '20251230'
    >>> observing_date(datetime(2025, 12, 30, 19, 0, tzinfo=UTC), 7)
    '20251231'
    """
    utc = moment.astimezone(UTC)
    local = utc - timedelta(hours=utc_offset)
    local_hours = local.hour + local.minute / 60 + local.second / 3600
    if 12 <= local_hours < 24 - utc_offset:
        return (utc + timedelta(days=1)).strftime("%Y%m%d")
    return utc.strftime("%Y%m%d")


def night_log_path(log_dir: Path, hostid: str, date: str) -> Path:
    """``<logDir>/<hostid>dm.<obsdate>.txt`` (docs/operations.md, "Logs")."""
    return log_dir / f"{hostid}dm.{date}.txt"


def default_hostid() -> str:
    """The first five characters of the host name (``mods1`` on mods1.lbto.org)."""
    return socket.gethostname()[:5]


class UtcFormatter(logging.Formatter):
    """``2025-12-30 03:12:46,120 | INFO | message`` with the time in UTC."""

    converter = staticmethod(time.gmtime)

    def __init__(self) -> None:
        super().__init__(LINE_FORMAT)


class NightLogHandler(logging.Handler):
    """Appends to the night's log file, opening the next one when the night changes.

    If the file cannot be opened or written (log disk full, read-only, gone),
    records go to ``fallback`` (stderr: the systemd journal) instead, which is
    said once, and the file is tried again every ``RETRY_PERIOD`` seconds;
    logging never stops processing and never prints a traceback.
    """

    RETRY_PERIOD = 5.0

    def __init__(self, log_dir: Path, hostid: str, utc_offset: float,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 fallback: TextIO | None = None) -> None:
        super().__init__()
        self.log_dir, self.hostid, self.utc_offset, self.clock = log_dir, hostid, utc_offset, clock
        self._date: str | None = None
        self._stream: TextIO | None = None
        self._fallback = fallback
        self.failing_since: float | None = None  # monotonic time of the first failure
        self._next_try = 0.0
        self.setFormatter(UtcFormatter())

    def path_for(self, date: str) -> Path:
        return night_log_path(self.log_dir, self.hostid, date)

    @property
    def current_path(self) -> Path:
        return self.path_for(observing_date(self.clock(), self.utc_offset))

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record) + "\n"
        if self.failing_since is not None and time.monotonic() < self._next_try:
            self._to_fallback(line)
            return
        try:
            date = observing_date(self.clock(), self.utc_offset)
            if date != self._date or self._stream is None:
                self._stream = self._reopen(date)
            self._stream.write(line)
            self._stream.flush()
        except Exception as error:  # logging must never stop processing
            self._failed(error)
            self._to_fallback(line)
            return
        if self.failing_since is not None:
            self.failing_since = None
            self._to_fallback(f"dataman: night log {self.current_path} is writable again\n")

    def _failed(self, error: Exception) -> None:
        with suppress(Exception):  # a full disk fails the flush in close() too
            self.close_stream()
        self._stream, self._date = None, None
        self._next_try = time.monotonic() + self.RETRY_PERIOD
        if self.failing_since is None:
            self.failing_since = time.monotonic()
            reason = getattr(error, "strerror", None) or str(error)
            self._to_fallback(f"dataman: cannot write the night log {self.current_path}: "
                              f"{reason}; logging to stderr until it can be written\n")

    def _to_fallback(self, text: str) -> None:
        with suppress(Exception):
            stream = self._fallback or sys.stderr
            stream.write(text)
            stream.flush()

    def _reopen(self, date: str) -> TextIO:
        self.close_stream()
        self._stream = open(self.path_for(date), "a", encoding="utf-8")  # noqa: SIM115
        self._date = date
        return self._stream

    def close_stream(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def close(self) -> None:
        self.acquire()
        try:
            self.close_stream()
        finally:
            self.release()
        super().close()
