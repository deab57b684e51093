"""The queue: frames waiting for a worker, in dispatch order, with how long each has waited."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from dataman.tui.format import duration, short_name, since
from dataman.tui.model import ServiceView


class QueueTable(DataTable):
    """One row per waiting frame: position, name, channel, source, waited, note."""

    can_focus = False

    DEFAULT_CSS = """
    QueueTable { height: auto; max-height: 12; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="none", zebra_stripes=True, **kwargs)
        self.border_title = "Queue"
        self.add_columns("#", "frame", "from", "waited", "note")

    def show(self, view: ServiceView, now: float) -> None:
        self.clear()
        for position, item in enumerate(view.queue, start=1):
            self.add_row(str(position), Text(short_name(item.get("name"))),
                         str(item.get("source") or ""),
                         since(item.get("requested_at"), now), Text(_note(item, now)))
        waiting = len(view.queue)
        self.border_title = f"Queue ({waiting})" if waiting else "Queue (empty)"


def _note(item: dict, now: float) -> str:
    """Why a frame is held back, and for how much longer."""
    reason = item.get("reason") or ""
    not_before = item.get("not_before")
    if not_before is not None and not_before > now:
        wait = f"retry in {duration(not_before - now)}"
        return f"{reason}; {wait}" if reason else wait
    return str(reason)
