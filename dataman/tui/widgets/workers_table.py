"""Workers: what each worker process is doing right now, and what it costs."""

from __future__ import annotations

from rich.text import Text
from textual.widgets.data_table import RowKey

from dataman.ipc.protocol_snapshot import WorkerEntry
from dataman.ipc.states import WorkerState
from dataman.tui import palette
from dataman.tui.format import short_name, since, size
from dataman.tui.model import ServiceView
from dataman.tui.widgets.live_table import LiveTable

COLUMNS = ("#", "pid", "state", "frame", "step", "for", "cpu", "mem", "done")
#: In a medium terminal: memory and frames done give way to the queue's note.
COMPACT = ("#", "pid", "state", "frame", "step", "for", "cpu")


class WorkersTable(LiveTable):
    """One row per worker: index, pid, state, frame, step, step elapsed, CPU, memory, done."""

    can_focus = False

    DEFAULT_CSS = """
    WorkersTable { height: auto; max-height: 12; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="none", **kwargs)
        self.border_title = "Workers"
        self.compact = False
        self._view: ServiceView | None = None
        self._now = 0.0
        self._busy: list[tuple[RowKey, WorkerEntry]] = []
        self._columns()

    def set_compact(self, compact: bool) -> None:
        """Leave out memory and frames done (beside the queue in a medium terminal)."""
        if compact != self.compact:
            self.compact = compact
            self._columns()
            if self._view is not None:
                self.show(self._view, self._now)

    def _columns(self) -> None:
        self.clear(columns=True)
        self._busy = []
        for column in COMPACT if self.compact else COLUMNS:
            self.add_column(column, key=column)

    def show(self, view: ServiceView, now: float) -> None:
        """Rebuild the rows from the workers (they changed, or the theme did)."""
        self._view, self._now = view, now
        self.clear()
        self._busy = []
        names = COMPACT if self.compact else COLUMNS
        variables = self.app.theme_variables
        for worker in view.workers:
            state = worker.state
            busy = state == WorkerState.BUSY
            cpu = worker.cpu_percent
            cells = {
                "#": str(worker.index), "pid": str(worker.pid or "-"),
                "state": Text(state,
                              style=palette.rich_style(variables, palette.WORKER.get(state))),
                "frame": Text(short_name(worker.frame) if busy else ""),
                "step": Text(worker.step or "") if busy else "",
                "for": since(worker.step_started, now) if busy else "",
                "cpu": "-" if cpu is None else f"{cpu:.0f}%", "mem": size(worker.rss),
                "done": str(worker.frames_done)}
            row = self.add_row(*(cells[name] for name in names))
            if busy:
                self._busy.append((row, worker))
        expected = view.workers_expected
        self.border_title = f"Workers ({len(self._busy)} busy / {expected})"

    def tick(self, now: float) -> None:
        """Once a second: only how long each busy worker has been on its step."""
        for row, worker in self._busy:
            self.set_cell(row, "for", since(worker.step_started, now))
