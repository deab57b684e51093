"""``dataman-console``: the App, its key bindings and palette commands, and ``main()``.

The app owns the :class:`~dataman.tui.model.ServiceView` and one named worker
that follows the service (:class:`~dataman.tui.connection.ServiceLink`); events
are folded into the view as they come and the panels redrawn at most every
:data:`REDRAW_DELAY` seconds, plus once a second for the elapsed times.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from dataman.ipc.control import ControlError, ControlUnavailable
from dataman.ipc.protocol_events import LogAppended
from dataman.ipc.protocol_requests import (
    Op,
    PauseRequest,
    ProcessRequest,
    Request,
    ResumeRequest,
    RetryRequest,
    StopRequest,
)
from dataman.ipc.protocol_snapshot import LogEntry
from dataman.ipc.states import Result, ServiceState
from dataman.tui.connection import ServiceLink, send_request
from dataman.tui.model import ServiceView
from dataman.tui.options import build_parser, socket_from_args
from dataman.tui.screens.confirm import ConfirmScreen
from dataman.tui.screens.dashboard import EVERYTHING, DashboardScreen
from dataman.tui.screens.process_file import ProcessFileScreen
from dataman.tui.screens.waiting import WaitingScreen

REDRAW_DELAY = 0.1
DONE = {Op.PAUSE: "intake paused", Op.RESUME: "intake resumed", Op.STOP: "service stopping",
        Op.RETRY: "queued again", Op.PROCESS: "queued"}


class DatamanConsole(App[None]):
    """Attaches to the service at ``socket``; quitting leaves the service running."""

    CSS_PATH = Path(__file__).with_name("dataman.tcss")
    TITLE = "dataMan console"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "toggle_pause", "Pause/Resume"),
        Binding("r", "retry", "Retry"),
        Binding("f", "process_file", "Process"),
        Binding("s", "stop_service", "Stop"),
        Binding("l", "log_level", "Log level"),
        Binding("q", "quit", "Quit"),
    ]
    SERVICE_ACTIONS = frozenset({"toggle_pause", "retry", "process_file", "stop_service"})

    def __init__(self, socket: Path, *, config: Path | None = None,
                 now: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.socket, self.now = Path(socket), now
        self.start_command = f"dataman run -c {config}" if config else "dataman run"
        self.view = ServiceView()
        self._dirty: set[str] = set()
        self._new_log: list[LogEntry] = []
        self._redraw_timer: Timer | None = None
        self.dashboard: DashboardScreen

    def get_default_screen(self) -> Screen:
        self.dashboard = DashboardScreen(self.view, str(self.socket))  # needs the running app
        return self.dashboard

    def on_mount(self) -> None:
        self.set_interval(1.0, self._each_second)
        self.theme_changed_signal.subscribe(self, lambda _: self.dashboard.show(EVERYTHING,
                                                                                self.now()))

    @on(DashboardScreen.Ready)
    def _dashboard_ready(self) -> None:
        self.follow_service()

    @work(name="service-link", exclusive=True, group="service-link", exit_on_error=False)
    async def follow_service(self) -> None:
        await ServiceLink(self.socket, self.post_message).follow()

    @on(ServiceLink.Attached)
    def _attached(self, message: ServiceLink.Attached) -> None:
        self.view.attach(message.snapshot)
        self._dirty.clear()
        self._new_log.clear()
        while self._waiting() is not None:
            self.pop_screen()
        self.dashboard.show(EVERYTHING, self.now())
        self.refresh_bindings()

    @on(ServiceLink.Detached)
    def _detached(self, message: ServiceLink.Detached) -> None:
        self.view.detach(message.reason)
        waiting = self._waiting()
        if waiting is None:  # dialogs about a service that is gone are closed
            while len(self.screen_stack) > 1:
                self.pop_screen()
            waiting = WaitingScreen(str(self.socket), self.start_command)
            self.push_screen(waiting)
            self.refresh_bindings()
        self.dashboard.show({"service"}, self.now())
        waiting.show(message.reason, self.view.attempts, message.retry_in)

    def _waiting(self) -> WaitingScreen | None:
        """The waiting screen, if it is up (the palette may be open over it)."""
        return next((screen for screen in self.screen_stack
                     if isinstance(screen, WaitingScreen)), None)

    @on(ServiceLink.Event)
    def _service_event(self, message: ServiceLink.Event) -> None:
        event = message.event
        section = self.view.apply(event)
        if isinstance(event, LogAppended):
            self._new_log.append(event.log)
        elif section:
            self._dirty.add(section)
        if section and self._redraw_timer is None:
            self._redraw_timer = self.set_timer(REDRAW_DELAY, self._redraw)

    def _redraw(self) -> None:
        self._redraw_timer = None
        if not self.screen_stack:  # the app is closing: an event came in its last moment
            return
        dirty, self._dirty = self._dirty, set()
        records, self._new_log = self._new_log, []
        self.dashboard.show(dirty, self.now())
        self.dashboard.append_log(records)
        if "service" in dirty:
            self.refresh_bindings()

    def _each_second(self) -> None:
        if self.view.connected:
            self.dashboard.tick(self.now())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.SERVICE_ACTIONS and not self.view.connected:
            return None
        return True

    def action_toggle_pause(self) -> None:
        self.send(ResumeRequest() if self.view.state == ServiceState.PAUSED else PauseRequest())

    def action_retry(self) -> None:
        frame = self.dashboard.selected
        if frame is None or frame.result != Result.FAILED:
            self.notify("Select a failed frame in Recent frames first.", severity="warning")
            return
        self.send(RetryRequest(frame.name))

    def action_process_file(self) -> None:
        def chosen(path: str | None) -> None:
            if path:
                self.send(ProcessRequest(path))
        self.push_screen(ProcessFileScreen(), chosen)

    def action_stop_service(self) -> None:
        def answered(stop: bool | None) -> None:
            if stop:
                self.send(StopRequest())
        self.push_screen(ConfirmScreen(
            "Stop the dataMan service?",
            "Frames being processed finish; queued frames stay in the journal and are "
            "processed at the next start. The console stays open.", yes="Stop service"),
            answered)

    def action_log_level(self) -> None:
        self.notify(f"Log: {self.dashboard.next_log_level()} and above", timeout=2)

    @work(name="control-request", group="control-request", exit_on_error=False)
    async def send(self, request: Request) -> None:
        """One request to the service; the outcome is a notification."""
        try:
            await send_request(self.socket, request)
        except (ControlError, ControlUnavailable, OSError, TimeoutError) as error:
            self.notify(f"{request.op.value}: {error}", title="Request refused", severity="error",
                        markup=False)
            return
        self.notify(f"{request.subject} {DONE.get(request.op, 'done')}".strip(), timeout=3,
                    markup=False)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """An unexpected error is shown; the link to the service is started again."""
        if event.state == WorkerState.ERROR:
            self.notify(f"{event.worker.name}: {event.worker.error}", severity="error",
                        markup=False)
            if event.worker.name == "service-link":
                self.set_timer(1.0, self.follow_service)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Pause intake", "Stop dispatching frames (they keep queueing)",
                            lambda: self.send(PauseRequest()))
        yield SystemCommand("Resume intake", "Dispatch queued frames again",
                            lambda: self.send(ResumeRequest()))
        yield SystemCommand("Retry frame", "Process the selected failed frame again",
                            self.action_retry)
        yield SystemCommand("Process file", "Queue a raw frame by name", self.action_process_file)
        yield SystemCommand("Stop service", "Stop dataMan (asks first)", self.action_stop_service)
        yield SystemCommand("Log level", "Show more or fewer log lines", self.action_log_level)


def main(argv: Sequence[str] | None = None) -> int:
    socket, config = socket_from_args(build_parser().parse_args(argv))
    DatamanConsole(socket, config=config).run()
    return 0
