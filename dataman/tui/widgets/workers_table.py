"""Workers: what each worker process is doing right now, and what it costs."""

from __future__ import annotations

from rich.text import Text
from textual.widgets.data_table import RowKey

from dataman.tui import palette
from dataman.tui.format import short_name, since, size
from dataman.tui.model import ServiceView
from dataman.tui.widgets.live_table import LiveTable

COLUMNS = ("#", "pid", "state", "frame", "step", "for", "cpu", "mem", "done")


class WorkersTable(LiveTable):
    """One row per worker: index, pid, state, frame, step, step elapsed, CPU, memory, done."""

    can_focus = False

    DEFAULT_CSS = """
    WorkersTable { height: auto; max-height: 12; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="none", **kwargs)
        self.border_title = "Workers"
        for column in COLUMNS:
            self.add_column(column, key=column)
        self._busy: list[tuple[RowKey, dict]] = []

    def show(self, view: ServiceView, now: float) -> None:
        """Rebuild the rows from the workers (they changed, or the theme did)."""
        self.clear()
        self._busy = []
        variables = self.app.theme_variables
        for worker in view.workers:
            state = str(worker.get("state", "?"))
            busy = state == "busy"
            cpu = worker.get("cpu_percent")
            row = self.add_row(
                str(worker.get("index", "?")), str(worker.get("pid") or "-"),
                Text(state, style=palette.rich_style(variables, palette.WORKER.get(state))),
                Text(short_name(worker.get("frame")) if busy else ""),
                str(worker.get("step") or "") if busy else "",
                since(worker.get("step_started"), now) if busy else "",
                "-" if cpu is None else f"{cpu:.0f}%", size(worker.get("rss")),
                str(worker.get("frames_done", 0)))
            if busy:
                self._busy.append((row, worker))
        expected = view.service.get("workers_expected") or len(view.workers)
        self.border_title = f"Workers ({len(self._busy)} busy / {expected})"

    def tick(self, now: float) -> None:
        """Once a second: only how long each busy worker has been on its step."""
        for row, worker in self._busy:
            self.set_cell(row, "for", since(worker.get("step_started"), now))
