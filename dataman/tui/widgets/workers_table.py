"""Workers: what each worker process is doing right now, and what it costs."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from dataman.tui import palette
from dataman.tui.format import short_name, since, size
from dataman.tui.model import ServiceView


class WorkersTable(DataTable):
    """One row per worker: index, pid, state, frame, step, step elapsed, CPU, memory, done."""

    can_focus = False

    DEFAULT_CSS = """
    WorkersTable { height: auto; max-height: 12; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="none", **kwargs)
        self.border_title = "Workers"
        self.add_columns("#", "pid", "state", "frame", "step", "for", "cpu", "mem", "done")

    def show(self, view: ServiceView, now: float) -> None:
        self.clear()
        variables = self.app.theme_variables
        for worker in view.workers:
            state = str(worker.get("state", "?"))
            busy = state == "busy"
            cpu = worker.get("cpu_percent")
            self.add_row(
                str(worker.get("index", "?")), str(worker.get("pid") or "-"),
                Text(state, style=palette.rich_style(variables, palette.WORKER.get(state))),
                Text(short_name(worker.get("frame")) if busy else ""),
                str(worker.get("step") or "") if busy else "",
                since(worker.get("step_started"), now) if busy else "",
                "-" if cpu is None else f"{cpu:.0f}%", size(worker.get("rss")),
                str(worker.get("frames_done", 0)))
        busy = sum(1 for worker in view.workers if worker.get("state") == "busy")
        expected = view.service.get("workers_expected") or len(view.workers)
        self.border_title = f"Workers ({busy} busy / {expected})"
