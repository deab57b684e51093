"""Text from outside the console is shown exactly as written, never read as markup.

Object names such as ``M42 [OIII] field`` are everyday text at a spectrograph;
header values, file names, datagram fields and log lines can hold anything,
including Textual's closing tag ``[/]``, an action ``[@click=app.quit]`` and a
link ``[link=...]``. Each is put into the field that carries it to the console,
and each panel must show it character for character, with its own colours kept.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from textual.widgets import DataTable, Static

from dataman.ipc.protocol_snapshot import HealthInfo, LogEntry, QualityFinding, QueueEntry
from dataman.tui.app import DatamanConsole
from dataman.tui.widgets.log_view import LogView
from dataman.tui.widgets.status_header import StatusHeader
from tests.tui.canned import NOW, CannedService, busy_snapshot, checked, frame
from tests.tui.conftest import until

OBJECT = "M42 [OIII] field [@click=app.quit]"
DATE_OBS = "[/]2025[bold"
TELRA = "[/red]"
LINK = "[link=https://example.org/x]here[/link]"
NAME = "mods1b.20251230.0150[/].fits"
DELIVERED = f"/newdata/{LINK}.fits"
THEME_TAG = "[$text-warning]"


def hostile_snapshot():
    busy = busy_snapshot()
    item = checked(frame(150, finished=1), 0, status="WARN",
                   findings=(("hdr:DATE-OBS", f"DATE-OBS {DATE_OBS!r} is not a date"),))
    item = replace(item, name=NAME, object_name=OBJECT, imagetyp="OBJECT", exptime=300.0,
                   warnings=(f"TELRA {TELRA} not understood",), delivered=DELIVERED,
                   qc_flags="hdr:DATE-OBS",
                   qc_findings=(QualityFinding("hdr:DATE-OBS",
                                               f"DATE-OBS {DATE_OBS!r} is not a date"),))
    failed = frame(151, finished=0, result="failed", delivered=None, processed=None,
                   reason=f"{THEME_TAG} BadHeader: OBJECT {OBJECT}", timings={"read": 0.1})
    return replace(
        busy, recent=(failed, item, *busy.recent),
        queue=(QueueEntry(name=NAME, channel="mods1b", source="datagram",
                          requested_at=NOW - 3, not_before=None, reason=f"{NAME}: {LINK}"),),
        log=(LogEntry(time=NOW - 1, level="WARNING", message=f"{NAME}: {LINK} {THEME_TAG}"),),
        health=HealthInfo(level=1, verdict="WARNING", problems=(f"MODS1B {DATE_OBS} {TELRA}",)),
        transfers=replace(busy.transfers, last={"MODS1B": NAME}))


def plain(widget: Static) -> str:
    return str(widget.render())


def test_header_values_file_names_and_log_lines_are_shown_as_written(short_dir):
    async def scenario():
        app = DatamanConsole(short_dir / "s.sock", now=lambda: NOW)
        async with app.run_test(size=(160, 50)) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            await pilot.pause()
            dashboard = app.dashboard
            failed = plain(dashboard.query_one("#detail", Static))
            assert failed.startswith("FAILED  mods1b.20251230.0151.fits\n")
            assert f"{THEME_TAG} BadHeader: OBJECT {OBJECT}" in failed
            await pilot.press("down")
            await pilot.pause()
            detail = plain(dashboard.query_one("#detail", Static))
            assert detail.startswith(f"WARN  {NAME}\nhdr:DATE-OBS\nOBJECT  300 s  {OBJECT}\n")
            assert f"⚠ TELRA {TELRA} not understood" in detail
            assert f"✗ hdr:DATE-OBS DATE-OBS {DATE_OBS!r} is not a date" in detail
            assert f"delivered {DELIVERED}" in detail
            # The panel's own styling survives: the verdict is still in the warning colour.
            content = dashboard.query_one("#detail", Static).visual
            assert any(span.start == 0 and "$text-warning" in str(span.style)
                       for span in content.spans)
            header = plain(dashboard.query_one(StatusHeader))
            assert f"MODS1B {DATE_OBS} {TELRA}" in header
            transfers = plain(dashboard.query_one("#transfers", Static))
            assert f"MODS1B.new {NAME}" in transfers
            log = dashboard.query_one(LogView)
            assert any(f"{NAME}: {LINK} {THEME_TAG}" in line.text for line in log.lines)
            queue = dashboard.query_one("#queue", DataTable)
            assert str(queue.get_cell_at((0, 1))) == "mods1b.20251230.0150[/]"
            assert str(queue.get_cell_at((0, 4))) == LINK
            assert app.is_running
    with CannedService(short_dir / "s.sock", hostile_snapshot()):
        asyncio.run(scenario())
