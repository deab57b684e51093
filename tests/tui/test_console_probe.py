"""The console probe (``console_probe.py``) tells a console that lived from one that died."""

from __future__ import annotations

import asyncio

from dataman.tui.app import DatamanConsole
from dataman.tui.model import ServiceView
from tests.tui.canned import CannedService, busy_snapshot, quiet_snapshot
from tests.tui.console_probe import probe_console, probe_console_sync


class BrokenView(ServiceView):
    def attach(self, snapshot: dict) -> None:
        raise RuntimeError("a bug on attach")


class DiesOnAttach(DatamanConsole):
    """A console with a bug in its attach handler, as an early console's was."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.view = BrokenView()


def test_a_console_that_attaches_is_ok(short_dir):
    with CannedService(short_dir / "s.sock", busy_snapshot()):
        result = probe_console_sync(short_dir / "s.sock")
    assert result.ok, result
    assert (result.rows, result.state) == (12, "running")


def test_a_console_that_dies_on_attach_is_reported(short_dir):
    with CannedService(short_dir / "s.sock", quiet_snapshot()):
        result = asyncio.run(probe_console(short_dir / "s.sock", app_class=DiesOnAttach))
    assert not result.ok
    assert not result.attached and not result.running
    assert result.error == "RuntimeError: a bug on attach"


def test_no_service_is_not_attached_but_the_console_lives(short_dir):
    result = probe_console_sync(short_dir / "none.sock", timeout=1.0)
    assert not result.ok
    assert not result.attached and result.running and result.error is None
    assert result.state == "disconnected"
