"""The queue: frames waiting for a worker, in dispatch order, with how long each has waited."""

from __future__ import annotations

from rich.text import Text
from textual.widgets.data_table import RowKey

from dataman.tui.format import duration, short_name, since
from dataman.tui.model import ServiceView
from dataman.tui.widgets.live_table import LiveTable

COLUMNS = ("#", "frame", "from", "waited", "note")


class QueueTable(LiveTable):
    """One row per waiting frame: position, name, channel, source, waited, note."""

    can_focus = False

    DEFAULT_CSS = """
    QueueTable { height: auto; max-height: 12; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="none", zebra_stripes=True, **kwargs)
        self.border_title = "Queue"
        for column in COLUMNS:
            self.add_column(column, key=column)
        self._shown: list[tuple[RowKey, dict]] = []

    def show(self, view: ServiceView, now: float) -> None:
        """Rebuild the rows from the queue (it changed)."""
        self.clear()
        self._shown = [
            (self.add_row(str(position), Text(short_name(item.get("name"))),
                          str(item.get("source") or ""), *_elapsed(item, now)), item)
            for position, item in enumerate(view.queue, start=1)]
        waiting = len(view.queue)
        self.border_title = f"Queue ({waiting})" if waiting else "Queue (empty)"

    def tick(self, now: float) -> None:
        """Once a second: only how long each frame has waited and the time to its retry."""
        for row, item in self._shown:
            waited, note = _elapsed(item, now)
            self.set_cell(row, "waited", waited)
            self.set_cell(row, "note", note)


def _elapsed(item: dict, now: float) -> tuple[str, Text]:
    """The cells that change with the time: waited, and the note with its retry countdown."""
    return since(item.get("requested_at"), now), Text(_note(item, now))


def _note(item: dict, now: float) -> str:
    """Why a frame is held back, and for how much longer."""
    reason = item.get("reason") or ""
    not_before = item.get("not_before")
    if not_before is not None and not_before > now:
        wait = f"retry in {duration(not_before - now)}"
        return f"{reason}; {wait}" if reason else wait
    return str(reason)
