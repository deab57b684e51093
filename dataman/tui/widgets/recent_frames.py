"""Recent frames, newest first: what each took, step by step, how it ended, its quality.

The ``qc`` column is the quality checks' verdict (OK, WARN, BAD; ``-`` not
checked); a flagged frame's name takes the verdict's colour so it stands out.
The verdict is what an observer looks for first, so it sits beside the name
and is never cut: when the panel is narrow the step times go first, then
binning, the time done, readout window and total (:data:`DROP_ORDER`).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from dataman.core.timings import STEPS
from dataman.ipc.protocol_snapshot import FrameEntry
from dataman.ipc.states import Result
from dataman.tui import palette
from dataman.tui.format import clock, seconds, short_name
from dataman.tui.model import ServiceView

#: Column widths in cells (frame names have a fixed pattern, times are 5 wide), in the
#: order shown. The channel is not a column: the frame name starts with it (``mods1b.``).
#: The step columns are :data:`STEP_COLUMNS`, one per step of ``core.timings.STEPS``.
WIDTHS = {"done": 8, "frame": 20, "qc": 4, "result": 7, "roi": 5, "bin": 3, "total": 6,
          "read": 5, "fixes": 5, "otm": 5, "checks": 6, "write": 5, "deliv": 5, "thumb": 5}
STEP_COLUMNS = dict(zip(("read", "fixes", "otm", "checks", "write", "deliv", "thumb"), STEPS,
                        strict=True))
FULL = tuple(WIDTHS)
#: Left out first to last as the panel narrows; the frame and its verdict always stay.
DROP_ORDER = (*reversed(STEP_COLUMNS), "bin", "done", "roi", "total", "result")
#: Cells the full set needs, each column padded by one cell on both sides.
FULL_WIDTH = sum(WIDTHS.values()) + 2 * len(WIDTHS)


def columns_for(width: int) -> tuple[str, ...]:
    """The columns that fit in ``width`` cells (a scrollbar's cell kept free).

    >>> columns_for(200) == FULL
    True
    >>> columns_for(64)
    ('done', 'frame', 'qc', 'result', 'roi', 'total')
    >>> columns_for(20)
    ('frame', 'qc')
    """
    shown = list(FULL)
    for name in DROP_ORDER:
        if sum(WIDTHS[column] + 2 for column in shown) <= width - 1:
            break
        shown.remove(name)
    return tuple(shown)


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
        self.shown: tuple[str, ...] = FULL
        self.border_title = "Recent frames"
        self._columns(FULL)

    @property
    def compact(self) -> bool:
        """Some columns are left out (the detail panel has them)."""
        return self.shown != FULL

    @property
    def pinned(self) -> bool:
        """The observer moved off the newest frame: new frames do not move the cursor."""
        return self.cursor_row > 0 and self.selected is not None

    def on_resize(self) -> None:
        self.set_columns(columns_for(self.scrollable_content_region.width or self.size.width))

    def set_columns(self, names: tuple[str, ...]) -> None:
        """Show ``names`` (from :func:`columns_for`)."""
        if names != self.shown:
            self.shown = names
            self.clear(columns=True)
            self._columns(names)
            if self._view is not None:
                self.show(self._view)

    def follow_newest(self) -> None:
        """Back to the newest frame; the detail follows new frames again."""
        if self.row_count:
            self.move_cursor(row=0, animate=False)

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
        self.border_title = title(view, list(rows.values()))

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
            "roi": Text(frame.roi), "bin": Text(frame.binning), "total": _seconds(frame.latency),
            "result": Text(result, style=palette.rich_style(variables, palette.RESULT.get(result),
                                                            bold=True)),
        }
        timings = frame.timings
        values.update({column: _seconds(timings.get(step))
                       for column, step in STEP_COLUMNS.items()})
        return [values[column] for column in self.shown]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._select(event.row_key.value if event.row_key else None)

    def _select(self, name: str | None) -> None:
        if name != self.selected:
            self.selected = name
            self.post_message(self.Selected(name))


def title(view: ServiceView, frames: list[FrameEntry]) -> str:
    """``Recent frames (12: 1 BAD, 1 WARN, 1 failed)``. A failed frame queued or running
    again (a retry) is not counted: the header's failed count has let it go too."""
    again = {item.name for item in view.queue} | {
        worker.frame for worker in view.workers if worker.frame}
    counts = {"BAD": 0, "WARN": 0, "failed": 0}
    for item in frames:
        if item.result == Result.FAILED:
            counts["failed"] += item.name not in again
        elif item.qc_status in counts:
            counts[item.qc_status] += 1
    flagged = ", ".join(f"{count} {word}" for word, count in counts.items() if count)
    return f"Recent frames ({len(frames)}{': ' + flagged if flagged else ''})"


def _seconds(value: object) -> Text:
    return Text(seconds(value), justify="right")
