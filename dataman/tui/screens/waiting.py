"""Shown while no service answers on the control socket; goes away when one does."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from dataman.tui.markup import markup


class WaitingScreen(ModalScreen[None]):
    """"not running — waiting", over the last picture of the service (dimmed).

    A modal screen hides the app's own keys, so it has its quit keys: the ``q``
    it announces, Escape, and ctrl+c (an operator's reflex on a dead screen).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "app.quit", "Quit"),
        Binding("escape", "app.quit", "Quit", show=False),
        Binding("ctrl+c", "app.quit", "Quit", show=False),
    ]

    DEFAULT_CSS = """
    WaitingScreen { align: center middle; }
    WaitingScreen > Vertical {
        width: 72; max-width: 95%; height: auto;
        border: thick $warning; background: $surface; padding: 1 2;
    }
    WaitingScreen #title { text-style: bold; color: $text-warning; margin-bottom: 1; }
    """

    def __init__(self, socket: str, command: str) -> None:
        super().__init__()
        self.socket, self.command = socket, command
        self._status = ("not running", 1, 0.25)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("dataMan is not running — waiting for it", id="title")
            yield Static(id="status")
            yield Label(markup("[$text-muted]start it with[/] $command"
                               "\n[$text-muted]q quits the console[/]", command=self.command),
                        id="hint")

    def on_mount(self) -> None:
        self.show(*self._status)

    def show(self, reason: str, attempts: int, retry_in: float) -> None:
        self._status = (reason, attempts, retry_in)
        status = next(iter(self.query("#status").results(Static)), None)
        if status is None:
            return  # not composed yet (on_mount shows it), or being taken down
        status.update(markup(
            "[$text-muted]socket[/] $socket\n[$text-muted]last try[/] $reason "
            f"[$text-muted](attempt {attempts}, next in {retry_in:.2g} s)[/]\n",
            socket=self.socket, reason=reason))
