"""One frame in full, over the dashboard: for terminals too small for the detail panel."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen

from dataman.ipc.protocol_snapshot import FrameEntry
from dataman.tui.widgets.frame_detail import FrameDetail


class FrameScreen(ModalScreen[None]):
    """The :class:`FrameDetail` of ``frame``; any of escape, enter or q closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter,q", "dismiss", "Close")]

    DEFAULT_CSS = """
    FrameScreen { align: center middle; }
    FrameScreen FrameDetail {
        width: 90; max-width: 95%; border: thick $primary; background: $surface;
    }
    """

    def __init__(self, frame: FrameEntry) -> None:
        super().__init__()
        self.frame = frame

    def compose(self) -> ComposeResult:
        yield FrameDetail()

    def on_mount(self) -> None:
        self.query_one(FrameDetail).show(self.frame)
