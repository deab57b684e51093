"""The service's log lines, kept for the snapshot and sent to subscribed consoles."""

from __future__ import annotations

import logging
from collections.abc import Callable

from dataman.ipc.protocol_events import Event, LogAppended
from dataman.ipc.protocol_snapshot import LogEntry
from dataman.service.snapshot import LogRing


class EventLogHandler(logging.Handler):
    """Keep the last log lines and send each one to subscribed consoles."""

    def __init__(self, ring: LogRing, publish: Callable[[Event], None]) -> None:
        super().__init__(logging.INFO)
        self._ring, self._publish, self._busy = ring, publish, False

    def emit(self, record: logging.LogRecord) -> None:
        if self._busy:  # a log line written while publishing one: keep, do not recurse
            return
        item = LogEntry(record.created, record.levelname, record.getMessage())
        self._ring.append(item)
        self._busy = True
        try:
            self._publish(LogAppended(item))
        finally:
            self._busy = False
