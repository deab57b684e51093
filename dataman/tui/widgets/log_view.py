"""The tail of the service log, coloured by level, filtered to a minimum level."""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual import events
from textual.reactive import reactive
from textual.widgets import RichLog

from dataman.ipc.protocol_snapshot import LogEntry
from dataman.tui import palette
from dataman.tui.format import clock
from dataman.tui.model import LEVELS, MAX_LOG, level_rank

FILTERS = ("DEBUG", "INFO", "WARNING", "ERROR")
#: Level names are written in full, padded to the longest, so messages line up.
LEVEL_WIDTH = max(len(level) for level in LEVELS)


class LogView(RichLog):
    """Log records at :attr:`level` and above, newest at the bottom.

    The records are the model's log (``ServiceView.log``, the last
    :data:`~dataman.tui.model.MAX_LOG`), handed over by :meth:`reload`.
    """

    DEFAULT_CSS = """
    LogView { height: 1fr; min-height: 3; overflow-x: hidden; }
    """

    level: reactive[str] = reactive("INFO")

    def __init__(self, **kwargs) -> None:
        super().__init__(max_lines=MAX_LOG, wrap=True, markup=False, auto_scroll=True, **kwargs)
        self._records: deque[LogEntry] = deque()
        self._newest: LogEntry | None = None  # the last record written
        self.shown = 0
        self._title()

    def watch_level(self) -> None:
        self.reload(self._records)

    def on_resize(self, event: events.Resize) -> None:
        """Wrap again at the new width (lines are wrapped when written)."""
        self.call_after_refresh(lambda: self.reload(self._records))

    def next_level(self) -> str:
        """Cycle DEBUG → INFO → WARNING → ERROR → DEBUG; return the new level."""
        self.level = FILTERS[(FILTERS.index(self.level) + 1) % len(FILTERS)]
        return self.level

    def reload(self, records: deque[LogEntry]) -> None:
        """Redraw from all of the model's log (after attach, a filter change, a theme change)."""
        self._records = records
        self.clear()
        self.shown = 0
        for record in records:
            self._write(record)
        self._newest = records[-1] if records else None
        self._title()

    def append(self, record: LogEntry) -> None:
        """Write ``record``, just added to the model's log, unless a reload has written it."""
        if self._written(record):
            return
        self._newest = record
        self._write(record)
        self._title()

    def _written(self, record: LogEntry) -> bool:
        """Is ``record`` the newest record written or older than it?

        The app hands new records over at its next redraw, and a reload in between
        (a filter change, a resize) writes what the model's log holds by then.
        """
        for item in reversed(self._records):
            if item is self._newest:
                return True
            if item is record:
                return False
        return False

    def _write(self, record: LogEntry) -> None:
        level = record.level.upper()
        if level_rank(level) < level_rank(self.level):
            return
        self.shown += 1
        variables = self.app.theme_variables
        tone = palette.LEVEL.get(level)
        if tone:
            label = palette.rich_style(variables, tone, bold=True)
            text = palette.rich_style(variables, tone)
        else:
            label = text = "dim" if level == "DEBUG" else ""
        line = Text(f"{clock(record.time)} ", style="dim")
        line.append(f"{level:<{LEVEL_WIDTH}} ", style=label)
        line.append(record.message, style=text)
        # Wrap at the panel's width (RichLog would wrap at the console's, 80 in tests).
        self.write(line, width=self.scrollable_content_region.width or None)

    def _title(self) -> None:
        levels = "all levels" if self.level == LEVELS[0] else f"{self.level} and above"
        self.border_title = f"Log ({levels}: {self.shown} of {len(self._records)})"
