"""Ask for the raw frame to process: the console's ``dataman send proc``."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class ProcessFileScreen(ModalScreen[str | None]):
    """Dismissed with the path typed (stripped), or ``None`` when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    ProcessFileScreen { align: center middle; }
    ProcessFileScreen > Vertical {
        width: 90; max-width: 95%; height: auto;
        border: thick $primary; background: $surface; padding: 1 2;
    }
    ProcessFileScreen Label { margin-bottom: 1; width: 100%; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Process a raw frame: its file name in dataDir/<chan>/ (a path works too)")
            yield Input(placeholder="mods1b.20251230.0143.fits", id="path")
            yield Label("[$text-muted]enter: queue it    escape: cancel[/]")

    @on(Input.Submitted, "#path")
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
