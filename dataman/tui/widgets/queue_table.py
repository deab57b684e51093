"""The queue: frames waiting for a worker, in dispatch order, with how long each has waited.

Why a frame waits (the note: its raw file is missing or still growing, a worker
died on it) matters most, so the note always keeps a column: it takes the
width the other columns leave, ending in ``…`` when it is longer, and in a
medium terminal (``compact``) the position and source columns make room for it.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets.data_table import RowKey

from dataman.core.names import without_name
from dataman.ipc.protocol_snapshot import QueueEntry
from dataman.ipc.states import ServiceState
from dataman.tui.format import duration, short_name, since
from dataman.tui.model import ServiceView
from dataman.tui.widgets.live_table import LiveTable

#: Column widths in cells; the note has the rest of the panel.
WIDTHS = {"#": 3, "frame": 20, "from": 8, "waited": 7}  # waited: up to "123d00h"
FULL = ("#", "frame", "from", "waited", "note")
COMPACT = ("frame", "waited", "note")
#: The note never gets fewer cells than this (the panel clips what does not fit).
MIN_NOTE = 12


class QueueTable(LiveTable):
    """One row per waiting frame: position, name, source, waited, note."""

    can_focus = False

    DEFAULT_CSS = """
    QueueTable { height: auto; max-height: 12; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="none", zebra_stripes=True, **kwargs)
        self.border_title = "Queue"
        self.compact = False
        self.note_width = MIN_NOTE
        self._view: ServiceView | None = None
        self._now = 0.0
        self._paused = False
        self._shown: list[tuple[RowKey, QueueEntry]] = []
        self._columns()

    @property
    def column_names(self) -> tuple[str, ...]:
        return COMPACT if self.compact else FULL

    def set_compact(self, compact: bool) -> None:
        """Leave out the position and source columns, so the note keeps its room."""
        if compact != self.compact:
            self.compact = compact
            self._layout()

    def on_resize(self) -> None:
        if self._fit_note() != self.note_width:
            self._layout()

    def _fit_note(self) -> int:
        """The note's width: what the panel has left after the other columns."""
        others = sum(WIDTHS.get(name, 0) for name in self.column_names)
        padding = 2 * self.cell_padding * len(self.column_names)
        return max(MIN_NOTE, self.scrollable_content_region.width - others - padding)

    def _layout(self) -> None:
        self.note_width = self._fit_note()
        self._columns()
        if self._view is not None:
            self.show(self._view, self._now)

    def _columns(self) -> None:
        self.clear(columns=True)
        self._shown = []
        for name in self.column_names:
            self.add_column(name, width=WIDTHS.get(name, self.note_width), key=name)

    def show(self, view: ServiceView, now: float) -> None:
        """Rebuild the rows from the queue (it changed)."""
        self._view, self._now = view, now
        self._paused = view.state == ServiceState.PAUSED
        self.clear()
        self._shown = []
        for position, item in enumerate(view.queue, start=1):
            waited, note = _elapsed(item, now, self._paused)
            cells = {"#": str(position), "frame": Text(short_name(item.name)),
                     "from": item.source, "waited": waited, "note": note}
            row = self.add_row(*(cells[name] for name in self.column_names))
            self._shown.append((row, item))
        self.show_title(view)

    def show_title(self, view: ServiceView) -> None:
        """How many frames wait: all of them, though the service lists only the first."""
        total, listed = view.queue_total, len(view.queue)
        if not total:
            self.border_title = "Queue (empty)"
        elif total > listed:
            self.border_title = f"Queue ({total:,}; first {listed:,} shown)"
        else:
            self.border_title = f"Queue ({total:,})"

    def tick(self, now: float) -> None:
        """Once a second: only how long each frame has waited and the time to its retry."""
        self._now = now
        for row, item in self._shown:
            waited, note = _elapsed(item, now, self._paused)
            self.set_cell(row, "waited", waited)
            self.set_cell(row, "note", note)


def _elapsed(item: QueueEntry, now: float, paused: bool) -> tuple[str, Text]:
    """The cells that change with the time: waited, and the note with its retry countdown."""
    return (since(item.requested_at, now),
            Text(note(item, now, paused=paused), no_wrap=True, overflow="ellipsis"))


def note(item: QueueEntry, now: float, *, paused: bool = False) -> str:
    """Why a frame is held back, and for how much longer (its name is in its row already).

    >>> note(QueueEntry("a.fits", "mods1b", "datagram", 0.0, not_before=125.0,
    ...                 reason="a.fits: not found (/data/a.fits)"), now=100.0)
    'not found (/data/a.fits); retry in 25 s'
    >>> note(QueueEntry("a.fits", "mods1b", "datagram", 0.0, None, None), 1.0, paused=True)
    'intake paused'
    """
    reason = without_name(item.reason or "", item.name)
    not_before = item.not_before
    if not_before is not None and not_before > now:
        wait = f"retry in {duration(not_before - now)}"
        return f"{reason}; {wait}" if reason else wait
    return reason or ("intake paused" if paused else "")
