"""The main screen: every panel, laid out for the terminal it is in.

The layout follows the terminal size through breakpoint classes (``-narrow``
under 120 columns, ``-short`` under 36 rows; see ``dataman.tcss``): in an
80×24 terminal the queue, frame detail, quality and transfers panels collapse
into a summary line of the header, and Enter on a frame opens its detail. From
:data:`NARROW` columns the frame detail, the quality trends and the transfers
share a column on the right that runs from the recent frames down past the
log: the quality and transfers panels keep their height and the detail has
the rest, scrolling when a frame has more to say, so all three are on screen
from 40 rows; the latency sits under the recent frames. From :data:`NARROW`
to :data:`FULL` columns the queue and workers tables, side by side, leave out
their least needed columns so the queue keeps room for why each frame waits.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer

from dataman.ipc.protocol_snapshot import FrameEntry, LogEntry
from dataman.tui.model import ServiceView
from dataman.tui.screens.frame import FrameScreen
from dataman.tui.widgets.frame_detail import FrameDetail
from dataman.tui.widgets.latency_chart import LatencyChart
from dataman.tui.widgets.log_view import LogView
from dataman.tui.widgets.quality_trends import QualityTrends
from dataman.tui.widgets.queue_table import QueueTable
from dataman.tui.widgets.recent_frames import RecentFrames
from dataman.tui.widgets.setup_checklist import SetupChecklist
from dataman.tui.widgets.status_header import StatusHeader
from dataman.tui.widgets.transfers_panel import TransfersPanel
from dataman.tui.widgets.workers_table import WorkersTable

if TYPE_CHECKING:
    from dataman.tui.app import DatamanConsole

NARROW = 120
FULL = 160
SHORT = 36
EVERYTHING = frozenset({"service", "counts", "health", "dropped", "queue", "workers",
                        "recent", "transfers", "log", "setups"})


class DashboardScreen(Screen[None]):
    """Header, queue and workers, recent frames with detail, latency, quality trends,
    transfers, log, key footer."""

    # Textual declares these `ClassVar[...] | None`, which mypy reads as instance variables.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW, "-wide")]  # noqa: RUF012
    VERTICAL_BREAKPOINTS = [(0, "-short"), (SHORT, "-tall")]  # noqa: RUF012

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "newest", "Newest", show=False,
                tooltip="Follow the newest frame again (the detail says when it is pinned)")]

    class Ready(Message):
        """Every panel is in place: the service may be followed now."""

    def __init__(self, view: ServiceView, socket: str) -> None:
        super().__init__()
        self.view, self.socket = view, socket
        self.header, self.queue_table = StatusHeader(id="header"), QueueTable(id="queue")
        self.workers_table, self.recent = WorkersTable(id="workers"), RecentFrames(id="recent")
        self.latency = LatencyChart(id="latency")
        # The quality panel beside it has each amplifier's values of the highlighted frame.
        self.detail = FrameDetail(id="detail", amps=False)
        self.transfers, self.log_view = TransfersPanel(id="transfers"), LogView(id="log")
        self.quality = QualityTrends(id="quality")
        self.setups = SetupChecklist(id="setups")

    def compose(self) -> ComposeResult:
        yield self.header
        with Horizontal(id="top"):
            yield self.queue_table
            yield self.workers_table
        with Horizontal(id="middle"):
            with Vertical(id="main"):
                yield self.recent
                yield self.latency
                yield self.log_view
            with Vertical(id="side"):
                yield self.setups  # hidden until the night has science
                yield self.detail
                yield self.quality
                yield self.transfers
        yield Footer()

    def on_mount(self) -> None:
        self.show(EVERYTHING, self._now())
        self.post_message(self.Ready())

    def _now(self) -> float:
        """The console's clock (injected in tests)."""
        return cast("DatamanConsole", self.app).now()

    @property
    def compact(self) -> bool:
        return self.size.width < NARROW

    def on_resize(self) -> None:
        medium = NARROW <= self.size.width < FULL  # narrower, the queue is hidden
        self.queue_table.set_compact(medium)
        self.workers_table.set_compact(medium)
        self.header.show(self.view, self._now(), self.socket, self.compact)

    def show(self, sections: Collection[str], now: float) -> None:
        """Redraw the panels that draw any of ``sections`` (all after an attach)."""
        if not self.header.is_attached:
            return  # not composed yet (drawn in full when mounted), or the app is closing
        view = self.view
        self.header.show(view, now, self.socket, self.compact)
        if "queue" in sections or "service" in sections:  # paused: the queue says so
            self.queue_table.show(view, now)
        elif "counts" in sections:  # the queue's total is a count
            self.queue_table.show_title(view)
        if "workers" in sections:
            self.workers_table.show(view, now)
        if "transfers" in sections:
            self.transfers.show(view, now)
        if "recent" in sections:
            self.recent.show(view)
            self.detail.show(view.frame(self.recent.selected), pinned=self.recent.pinned)
            self.latency.show(view)
            self.quality.show(view, view.frame(self.recent.selected))
        if "log" in sections:
            self.log_view.reload(view.log)
        if "setups" in sections:
            self.setups.show(view)

    def tick(self, now: float) -> None:
        """Once a second: the elapsed times (uptime, waited, step elapsed, next retry)."""
        if not self.header.is_attached:
            return
        view = self.view
        self.header.show(view, now, self.socket, self.compact)
        self.queue_table.tick(now)
        self.workers_table.tick(now)
        if view.transfers and view.transfers.awaiting_delivery:
            self.transfers.show(view, now)

    def append_log(self, records: list[LogEntry]) -> None:
        for record in records:
            self.log_view.append(record)

    @property
    def selected(self) -> FrameEntry | None:
        """The frame highlighted in the recent frames table."""
        return self.view.frame(self.recent.selected)

    def action_newest(self) -> None:
        """The cursor back on the newest frame: the detail follows new frames again."""
        self.recent.follow_newest()

    def next_log_level(self) -> str:
        return self.log_view.next_level()

    @on(RecentFrames.Selected)
    def _selected(self, message: RecentFrames.Selected) -> None:
        self.detail.show(self.view.frame(message.name), pinned=self.recent.pinned)
        self.quality.show(self.view, self.view.frame(message.name))

    @on(RecentFrames.RowSelected)
    def _open_frame(self) -> None:
        if self.selected is not None:
            self.app.push_screen(FrameScreen(self.selected))
