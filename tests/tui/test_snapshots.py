"""Screenshots of the console in fixed states (``--snapshot-update`` to accept changes).

The service is a real ControlServer serving a canned snapshot; the console's
clock is frozen at ``NOW`` and the socket path is relative (the test runs in
its folder) so every screenshot is the same from run to run.

The busy night has a BAD frame (the newest, highlighted), a WARN frame and a
failed one. At each size an observer uses (80x24, 120x40, 160x50) the test
first checks what the picture must show: every panel of that size's layout
whole on screen, the verdict column of the recent frames whole, and the BAD
frame's detail opening with BAD.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from dataman.tui.app import DatamanConsole
from dataman.tui.screens.frame import FrameScreen
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


#: The panels of each layout: 80 columns collapse queue, detail, latency, quality and
#: transfers into the header's second line (the detail opens with Enter).
NARROW_PANELS = ("#header", "#workers", "#recent", "#log", "Footer")
WIDE_PANELS = (*NARROW_PANELS, "#queue", "#latency", "#detail", "#quality", "#transfers")


def on_screen(app, panels: tuple[str, ...]) -> None:
    """Each panel shown whole: inside the screen above the footer, and inside the
    container that holds it (a panel pushed past its container's end is cut)."""
    screen = app.screen
    for selector in panels:
        widget = screen.query_one(selector)
        region = widget.region
        assert widget.display and region.area, f"{selector} not shown"
        assert screen.region.contains_region(region), f"{selector} off screen: {region}"
        parent = widget.parent
        if parent is not screen and selector != "Footer":
            assert parent.region.contains_region(region), f"{selector} cut: {region}"
            footer = screen.query_one("Footer").region
            assert region.bottom <= footer.y, f"{selector} under the footer"


def verdict_column_whole(app) -> None:
    """The ``qc`` column is among the columns and ends inside the table's width."""
    table = app.screen.query_one("#recent", DataTable)
    keys = [key.value for key in table.columns]
    assert "qc" in keys
    end = sum(column.get_render_width(table) for column in
              list(table.columns.values())[: keys.index("qc") + 1])
    assert end <= table.scrollable_content_region.width
    assert str(table.get_cell_at((0, keys.index("qc")))) == "BAD"


def checked_layout(panels: tuple[str, ...], *, detail_on_screen: bool):
    async def run_before(pilot) -> None:
        app = pilot.app
        await until(pilot, lambda: app.view.connected, what="attach")
        await pilot.pause()
        on_screen(app, panels)
        verdict_column_whole(app)
        if detail_on_screen:
            text = str(app.screen.query_one("#detail", Static).render())
        else:  # Enter shows the frame in full, over the dashboard
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, FrameScreen), what="the detail")
            await pilot.pause()
            text = str(app.screen.query_one(Static).render())
            await pilot.press("escape")
            await pilot.pause()
        assert text.startswith("BAD  mods1b.20251230.0143.fits\nIM2:dead IM3:noise\n"), text
    return run_before


def test_busy_night_at_160x50(busy_service, snap_compare):
    """The README's picture: every panel, every column that fits, a BAD frame's detail."""
    app = DatamanConsole(SOCKET, now=lambda: NOW)
    assert snap_compare(app, terminal_size=(160, 50),
                        run_before=checked_layout(WIDE_PANELS, detail_on_screen=True))


def test_busy_night_at_120x40(busy_service, snap_compare):
    app = DatamanConsole(SOCKET, now=lambda: NOW)
    assert snap_compare(app, terminal_size=(120, 40),
                        run_before=checked_layout(WIDE_PANELS, detail_on_screen=True))


def test_busy_night_at_80x24(busy_service, snap_compare):
    app = DatamanConsole(SOCKET, now=lambda: NOW)
    assert snap_compare(app, terminal_size=(80, 24),
                        run_before=checked_layout(NARROW_PANELS, detail_on_screen=False))


def test_a_picked_frame_pins_the_detail(busy_service, snap_compare):
    """The observer moved to the WARN frame: the detail says it is pinned, and how to
    follow the newest frame again."""
    app = DatamanConsole(SOCKET, now=lambda: NOW)
    assert snap_compare(app, terminal_size=(120, 40), run_before=attached("down", "down", "down"))


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
