"""Screenshots of the console in fixed states (``--snapshot-update`` to accept changes).

The service is a real ControlServer serving a canned snapshot; the console's
clock is frozen at ``NOW`` and the socket path is relative (the test runs in
its folder) so every screenshot is the same from run to run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dataman.tui.app import DatamanConsole
from dataman.tui.screens.waiting import WaitingScreen
from tests.tui.canned import NOW, CannedService, busy_snapshot
from tests.tui.conftest import until

SOCKET = Path("dataman.sock")


@pytest.fixture
def busy_service(short_dir, monkeypatch):
    monkeypatch.chdir(short_dir)
    with CannedService(short_dir / SOCKET, busy_snapshot()) as service:
        yield service


def attached(*keys: str, theme: str | None = None):
    async def run_before(pilot) -> None:
        app = pilot.app
        if theme:
            app.theme = theme
        await until(pilot, lambda: app.view.connected, what="attach")
        await pilot.press(*keys)
        await pilot.pause()
    return run_before


def test_busy_night_in_a_large_terminal(busy_service, snap_compare):
    app = DatamanConsole(SOCKET, now=lambda: NOW)
    assert snap_compare(app, terminal_size=(160, 48), run_before=attached("down", "down"))


def test_busy_night_in_80x24_panels_collapse(busy_service, snap_compare):
    app = DatamanConsole(SOCKET, now=lambda: NOW)
    assert snap_compare(app, terminal_size=(80, 24), run_before=attached())


def test_busy_night_light_theme(busy_service, snap_compare):
    app = DatamanConsole(SOCKET, now=lambda: NOW)
    assert snap_compare(app, terminal_size=(120, 40),
                        run_before=attached("down", theme="textual-light"))


def test_stop_asks_for_confirmation(busy_service, snap_compare):
    app = DatamanConsole(SOCKET, now=lambda: NOW)
    assert snap_compare(app, terminal_size=(100, 30), run_before=attached("s"))


def test_no_service_waiting_screen(short_dir, monkeypatch, snap_compare):
    monkeypatch.chdir(short_dir)

    async def run_before(pilot) -> None:
        app = pilot.app
        # The third attempt is followed by the longest backoff: a still picture.
        await until(pilot, lambda: isinstance(app.screen, WaitingScreen)
                    and app.view.attempts == 3, what="the third attempt")

    app = DatamanConsole(SOCKET, config=Path("/etc/dataman/dataman.ini"), now=lambda: NOW)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_quality_of_a_frame_with_a_dead_amplifier(busy_service, snap_compare):
    """The README's picture of the quality panel: the newest frame (IM2 dead, IM3 noisy)
    highlighted, its checks in the detail, the amplifiers' trends against their bands."""
    app = DatamanConsole(SOCKET, now=lambda: NOW)
    assert snap_compare(app, terminal_size=(160, 64), run_before=attached())
