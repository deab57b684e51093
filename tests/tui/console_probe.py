"""Start a real console against a control socket and tell whether it attached and lived.

Issue 5 was a console that died on attach (a snapshot listing a frame twice):
every console started later that night died too. A test that puts a service
through faults starts a console again after each one with this probe and
asserts it survived::

    from tests.tui.console_probe import probe_console_sync

    service = service_factory(...).start()
    for fault in faults:
        fault(service)
        result = probe_console_sync(service.socket_path)
        assert result.ok, result          # attached, drew the snapshot, still running

From async code (a Pilot test, an event loop of its own) ``await
probe_console(path)`` instead. The probe runs :class:`DatamanConsole` headless
with ``App.run_test``; it waits, up to ``timeout`` seconds, until the console is
attached with a snapshot drawn (dashboard up, no waiting screen, one recent
frames row per frame), lets it handle its messages once more, then quits it (the
service keeps running, as when an operator quits). It never sleeps a fixed
time: it polls the condition every 20 ms until the deadline, and stops early
if the console dies. ``ok`` is true only if it attached and was still running
without an exception when it was quit.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from dataman.tui.app import DatamanConsole
from dataman.tui.screens.waiting import WaitingScreen

#: The terminal size of the probe: large, so every panel is drawn.
SIZE = (160, 48)


@dataclass(frozen=True)
class ProbeResult:
    """What one console did between its start and its quit."""

    attached: bool  # showed the service (dashboard, snapshot drawn) before the deadline
    running: bool  # still running when the probe quit it
    error: str | None  # the exception that ended it (or that it ended with), if any
    rows: int  # rows of its recent frames table when it was last seen attached
    state: str  # the service state it showed last: running, paused, ... or disconnected

    @property
    def ok(self) -> bool:
        return self.attached and self.running and self.error is None


def _shows_snapshot(app: DatamanConsole) -> bool:
    """Attached, and the dashboard has drawn the snapshot it got (one row per frame)."""
    view = app.view
    if not view.connected or not view.service:
        return False
    if any(isinstance(screen, WaitingScreen) for screen in app.screen_stack):
        return False
    frames = {frame.name for frame in view.recent}
    return app.dashboard.recent.row_count == len(frames)


async def probe_console(socket: Path | str, *, timeout: float = 10.0,
                        app_class: type[DatamanConsole] = DatamanConsole) -> ProbeResult:
    """Run a console on ``socket`` until it shows the service or ``timeout`` passes.

    ``app_class`` is for the probe's own test (a console made to fail).
    """
    app = app_class(Path(socket))
    attached = running = False
    rows, state, error = 0, "disconnected", None
    try:
        async with app.run_test(size=SIZE) as pilot:
            deadline = time.monotonic() + timeout
            while app.return_code is None and time.monotonic() < deadline:
                if _shows_snapshot(app):
                    attached = True
                    break
                await pilot.pause(0.02)
            if attached:
                await pilot.pause()  # one more turn of its message loop, attached
                rows, state = app.dashboard.recent.row_count, app.view.state
            running = app.is_running and app.return_code is None
    except Exception as exc:  # the console's own exception, re-raised by run_test
        error = f"{type(exc).__name__}: {exc}"
    return ProbeResult(attached, running, error, rows, state)


def probe_console_sync(socket: Path | str, *, timeout: float = 10.0) -> ProbeResult:
    """:func:`probe_console` from synchronous code (not inside a running event loop)."""
    return asyncio.run(probe_console(socket, timeout=timeout))
