"""The tail of the service log, coloured by level, filtered to a minimum level."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import RichLog

from dataman.tui import palette
from dataman.tui.format import clock
from dataman.tui.model import LEVELS, level_rank

FILTERS = ("DEBUG", "INFO", "WARNING", "ERROR")


class LogView(RichLog):
    """Log records at :attr:`level` and above, newest at the bottom."""

    DEFAULT_CSS = """
    LogView { height: 1fr; min-height: 3; overflow-x: hidden; }
    """

    level: reactive[str] = reactive("INFO")

    def __init__(self, **kwargs) -> None:
        super().__init__(max_lines=500, wrap=True, markup=False, auto_scroll=True, **kwargs)
        self._records: list[dict] = []
        self.shown = 0
        self._title()

    def watch_level(self) -> None:
        self.reload(self._records)

    def on_resize(self) -> None:
        """Wrap again at the new width (lines are wrapped when written)."""
        self.call_after_refresh(lambda: self.reload(self._records))

    def next_level(self) -> str:
        """Cycle DEBUG → INFO → WARNING → ERROR → DEBUG; return the new level."""
        self.level = FILTERS[(FILTERS.index(self.level) + 1) % len(FILTERS)]
        return self.level

    def reload(self, records: Iterable[dict]) -> None:
        """Redraw from all records (after attach, a filter change, a theme change)."""
        self._records = list(records)
        self.clear()
        self.shown = 0
        for record in self._records:
            self._write(record)
        self._title()

    def append(self, record: dict) -> None:
        self._records.append(record)
        del self._records[:-self.max_lines]
        self._write(record)
        self._title()

    def _write(self, record: dict) -> None:
        level = str(record.get("level", "INFO")).upper()
        if level_rank(level) < level_rank(self.level):
            return
        self.shown += 1
        variables = self.app.theme_variables
        tone = palette.LEVEL.get(level)
        line = Text(f"{clock(record.get('time'))} ", style="dim")
        line.append(f"{level[:4]:<4} ", style=palette.rich_style(variables, tone, bold=True)
                    if tone else ("dim" if level == "DEBUG" else ""))
        line.append(str(record.get("message", "")), style=palette.rich_style(variables, tone)
                    if tone else ("dim" if level == "DEBUG" else ""))
        # Wrap at the panel's width (RichLog would wrap at the console's, 80 in tests).
        self.write(line, width=self.scrollable_content_region.width or None)

    def _title(self) -> None:
        levels = "all levels" if self.level == LEVELS[0] else f"{self.level} and above"
        self.border_title = f"Log ({levels}: {self.shown} of {len(self._records)})"
