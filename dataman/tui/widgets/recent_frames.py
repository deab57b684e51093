"""Recent frames, newest first: what each took, step by step, how it ended, its quality.

The ``qc`` column is the quality checks' verdict (OK, WARN, BAD; ``-`` not
checked); a flagged frame's name takes the verdict's colour so it stands out.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from dataman.ipc.protocol_snapshot import FrameEntry
from dataman.tui import palette
from dataman.tui.format import clock, seconds, short_name
from dataman.tui.model import STEPS, ServiceView

#: Column widths in cells (frame names have a fixed pattern, times are 5 wide). The
#: channel is not a column: the frame name starts with it (``mods1b.``).
WIDTHS = {"done": 8, "frame": 20, "roi": 5, "bin": 3, "read": 5, "fixes": 5,
          "otm": 5, "write": 5, "deliv": 5, "total": 6, "result": 7, "qc": 4}
FULL = tuple(WIDTHS)
COMPACT = ("done", "frame", "roi", "bin", "total", "result", "qc")
#: Cells the full set needs, each column padded by one cell on both sides.
FULL_WIDTH = sum(WIDTHS.values()) + 2 * len(WIDTHS)


class RecentFrames(DataTable):
    """The last frames finished; the highlighted one is shown in detail.

    The cursor stays on the frame the observer picked while new frames arrive
    above it; on the top row it follows the newest frame. A frame has one row,
    whatever it is sent: a newer outcome replaces its row, never adds a second
    one (a repeated row key would end the console with ``DuplicateKey``).
    """

    DEFAULT_CSS = """
    RecentFrames { height: 1fr; }
    """

    @dataclass
    class Selected(Message):
        """The observer highlighted the frame ``name`` (``None``: the list is empty)."""

        name: str | None

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._view: ServiceView | None = None
        self.selected: str | None = None
        self.compact = False
        self.border_title = "Recent frames"
        self._columns(FULL)

    def on_resize(self) -> None:
        self.set_compact(self.size.width < FULL_WIDTH)

    def set_compact(self, compact: bool) -> None:
        """Leave out the per-step columns when they do not fit (the detail panel has them)."""
        if compact != self.compact:
            self.compact = compact
            self.clear(columns=True)
            self._columns(COMPACT if compact else FULL)
            if self._view is not None:
                self.show(self._view)

    def _columns(self, names: tuple[str, ...]) -> None:
        for name in names:
            self.add_column(name, width=WIDTHS[name], key=name)

    def show(self, view: ServiceView) -> None:
        self._view = view
        follow = self.cursor_row <= 0 or self.selected is None
        self.clear()
        rows: dict[str, FrameEntry] = {}  # one row per frame: a repeated name keeps its newest
        for frame in view.recent:
            rows.setdefault(frame.name, frame)
        for name, frame in rows.items():
            self.add_row(*self._cells(frame), key=name)
        names = list(rows)
        target = 0 if follow or self.selected not in names else names.index(self.selected)
        if names:
            self.move_cursor(row=target, animate=False, scroll=not follow)
        self._select(names[target] if names else None)
        failed = sum(1 for frame in rows.values() if frame.result == "failed")
        self.border_title = f"Recent frames ({len(names)}, {failed} failed)"

    def _cells(self, frame: FrameEntry) -> list[object]:
        result = frame.result
        variables = self.app.theme_variables
        quality = frame.qc_status
        flagged = palette.QUALITY.get(quality) if quality in ("WARN", "BAD") else None
        values = {
            "done": clock(frame.finished_at),
            "frame": Text(short_name(frame.name),
                          style=palette.rich_style(variables, flagged) if flagged else ""),
            "qc": Text(quality or "-", style=palette.rich_style(
                variables, palette.QUALITY.get(quality or ""), bold=bool(flagged))),
            "roi": frame.roi,
            "bin": frame.binning, "total": _seconds(frame.latency),
            "result": Text(result, style=palette.rich_style(variables, palette.RESULT.get(result),
                                                            bold=True)),
        }
        timings = frame.timings
        values.update({column: _seconds(timings.get(step))
                       for column, step in zip(
            ("read", "fixes", "otm", "write", "deliv"), STEPS, strict=True)})
        return [values[column] for column in (COMPACT if self.compact else FULL)]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._select(event.row_key.value if event.row_key else None)

    def _select(self, name: str | None) -> None:
        if name != self.selected:
            self.selected = name
            self.post_message(self.Selected(name))


def _seconds(value: object) -> Text:
    return Text(seconds(value), justify="right")
