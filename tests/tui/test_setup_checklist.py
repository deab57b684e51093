"""The console's setup checklist: a night with one setup missing its arcs, as a screenshot
(``--snapshot-update`` to accept changes), and the panel hidden while there is no science."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from dataman.ipc.protocol_events import SetupsChanged
from dataman.ipc.protocol_snapshot import SetupEntry, Snapshot
from dataman.tui.app import DatamanConsole
from dataman.tui.widgets.setup_checklist import SetupChecklist
from tests.tui.canned import NOW, CannedService, busy_snapshot
from tests.tui.conftest import until

SOCKET = Path("dataman.sock")
RED = SetupEntry("MODS1R", "G670L", "GG495", "LS5x60x1.0", "1x1", "full", 6, 3, 3, 2, (),
                 "MODS1R G670L GG495 / LS5x60x1.0 / 1x1 full: 6 OBJECT, 3 BIAS, 3 FLAT, "
                 "2 COMP: complete")
BLUE = SetupEntry("MODS1B", "G400L", "Clear", "LS5x60x0.6", "1x1", "full", 4, 3, 3, 0,
                  ("arcs",), "MODS1B G400L Clear / LS5x60x0.6 / 1x1 full: 4 OBJECT, 3 BIAS, "
                             "3 FLAT, 0 COMP: no arcs yet")


def setup_night() -> Snapshot:
    return replace(busy_snapshot(), setups=(BLUE, RED))


@pytest.fixture
def setup_service(short_dir, monkeypatch):
    monkeypatch.chdir(short_dir)
    with CannedService(short_dir / SOCKET, setup_night()) as service:
        yield service


def test_a_setup_missing_its_arcs_is_flagged(setup_service, snap_compare):
    async def run_before(pilot) -> None:
        await until(pilot, lambda: pilot.app.view.connected, what="attach")
        await pilot.pause()

    app = DatamanConsole(SOCKET, now=lambda: NOW)
    assert snap_compare(app, terminal_size=(160, 48), run_before=run_before)


def test_the_panel_appears_with_the_first_science_frame(short_dir, monkeypatch):
    monkeypatch.chdir(short_dir)

    async def scenario(service: CannedService) -> None:
        app = DatamanConsole(SOCKET, now=lambda: NOW)
        async with app.run_test(size=(160, 48)) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            panel = app.dashboard.query_one(SetupChecklist)
            assert not panel.display
            service.publish(SetupsChanged((BLUE,)))
            await until(pilot, lambda: panel.display, what="the checklist shown")
            assert "no arcs yet" in str(panel.render())

    with CannedService(short_dir / SOCKET, busy_snapshot()) as service:
        asyncio.run(scenario(service))
