"""The console against a real ControlServer serving canned snapshots (Pilot tests)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.command import CommandList
from textual.widgets import DataTable, Input, Label, Static

from dataman.ipc.control import PROTOCOL_VERSION
from dataman.ipc.protocol_events import CountsChanged, Dropped, FrameFinished, ServiceChanged
from dataman.ipc.protocol_snapshot import Counts
from dataman.tui.app import DatamanConsole
from dataman.tui.connection import ServiceLink
from dataman.tui.model import ServiceView
from dataman.tui.options import build_parser, socket_from_args
from dataman.tui.screens.confirm import ConfirmScreen
from dataman.tui.screens.frame import FrameScreen
from dataman.tui.screens.process_file import ProcessFileScreen
from dataman.tui.screens.waiting import WaitingScreen
from dataman.tui.widgets.log_view import LogView
from dataman.tui.widgets.recent_frames import RecentFrames
from dataman.tui.widgets.status_header import StatusHeader
from tests import protocol_fixtures as pf
from tests.conftest import write_config
from tests.tui.canned import NOW, CannedService, busy_snapshot, frame, quiet_snapshot
from tests.tui.conftest import until

WIDE = (160, 48)


def console(socket) -> DatamanConsole:
    return DatamanConsole(socket, now=lambda: NOW)


def header_text(app: DatamanConsole) -> str:
    return str(app.dashboard.query_one(StatusHeader).render())


def cell(app: DatamanConsole, selector: str, row: int, column: int | str) -> str:
    """The text of a cell, its column by position or by name (``"qc"``)."""
    table = app.dashboard.query_one(selector, DataTable)
    if isinstance(column, str):
        column = [key.value for key in table.columns].index(column)
    return str(table.get_cell_at((row, column)))


def test_attaches_and_shows_the_snapshot(short_dir):
    async def scenario():
        app = console(short_dir / "s.sock")
        async with app.run_test(size=WIDE) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            await pilot.pause()
            assert "RUNNING" in header_text(app) and "up 3h12m" in header_text(app)
            assert "/etc/dataman/dataman.ini" in header_text(app)
            assert cell(app, "#queue", 1, 1) == "mods1r.20251230.0143"
            assert cell(app, "#workers", 1, 4) == "deliver"
            assert cell(app, "#recent", 2, "result") == "failed"
            assert app.dashboard.query_one(LogView).lines
    with CannedService(short_dir / "s.sock", busy_snapshot()):
        asyncio.run(scenario())


def test_published_events_reach_the_panels_without_a_new_snapshot(short_dir):
    async def scenario(service: CannedService):
        app = console(short_dir / "s.sock")
        async with app.run_test(size=WIDE) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            service.publish(FrameFinished(frame(7, result="failed",
                                                reason="BadHeader: no DATE-OBS")))
            service.publish(CountsChanged(Counts(queued=0, running=0, processed=1,
                                                 delivered=0, failed=1, queue_total=0)))
            await until(pilot, lambda: app.dashboard.query_one(RecentFrames).row_count == 1,
                        what="the frame row")
            await until(pilot, lambda: "1 failed" in header_text(app), what="the counts")
            assert cell(app, "#recent", 0, "result") == "failed"
    with CannedService(short_dir / "s.sock", quiet_snapshot()) as service:
        asyncio.run(scenario(service))


def test_pause_key_sends_pause_and_resume_when_paused(short_dir):
    async def scenario(service: CannedService):
        app = console(short_dir / "s.sock")
        async with app.run_test(size=WIDE) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            await pilot.press("p")
            await until(pilot, lambda: service.requests, what="the pause request")
            service.publish(ServiceChanged(replace(busy_snapshot().service, state="paused")))
            await until(pilot, lambda: "PAUSED" in header_text(app), what="paused state")
            await pilot.press("p")
            await until(pilot, lambda: len(service.requests) == 2, what="the resume request")
        assert service.requests == [("pause", {}), ("resume", {})]
    with CannedService(short_dir / "s.sock", busy_snapshot()) as service:
        asyncio.run(scenario(service))


def test_retry_sends_the_selected_failed_frame_only(short_dir):
    async def scenario(service: CannedService):
        app = console(short_dir / "s.sock")
        async with app.run_test(size=WIDE) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            await pilot.press("r")  # the newest frame is selected, and it did not fail
            await pilot.press("down", "down", "r")
            await until(pilot, lambda: service.requests, what="the retry request")
        assert service.requests == [("retry", {"name": "mods1b.20251230.0141.fits"})]
    with CannedService(short_dir / "s.sock", busy_snapshot()) as service:
        asyncio.run(scenario(service))


def test_stop_asks_first_and_no_sends_nothing(short_dir):
    async def scenario(service: CannedService):
        app = console(short_dir / "s.sock")
        async with app.run_test(size=WIDE) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            await pilot.press("s")
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("n")
            assert not isinstance(app.screen, ConfirmScreen)
            await pilot.press("s")
            await pilot.click("#yes")
            await until(pilot, lambda: service.requests, what="the stop request")
        assert service.requests == [("stop", {})]
    with CannedService(short_dir / "s.sock", busy_snapshot()) as service:
        asyncio.run(scenario(service))


def test_process_file_dialog_sends_the_path(short_dir):
    async def scenario(service: CannedService):
        app = console(short_dir / "s.sock")
        async with app.run_test(size=WIDE) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            await pilot.press("f")
            assert isinstance(app.screen, ProcessFileScreen)
            app.screen.query_one(Input).value = " /data/mods1b/mods1b.20251230.0150.fits "
            await pilot.press("enter")
            await until(pilot, lambda: service.requests, what="the process request")
        assert service.requests == [("process",
                                     {"path": "/data/mods1b/mods1b.20251230.0150.fits"})]
    with CannedService(short_dir / "s.sock", busy_snapshot()) as service:
        asyncio.run(scenario(service))


def test_log_level_key_filters_the_log(short_dir):
    async def scenario():
        app = console(short_dir / "s.sock")
        async with app.run_test(size=WIDE) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            log = app.dashboard.query_one(LogView)
            assert log.border_title == "Log (INFO and above: 6 of 7)"
            await pilot.press("l")
            assert log.border_title == "Log (WARNING and above: 2 of 7)"
            await pilot.press("l", "l")
            assert log.border_title == "Log (all levels: 7 of 7)"
    with CannedService(short_dir / "s.sock", busy_snapshot()):
        asyncio.run(scenario())


def test_enter_on_a_frame_opens_its_detail(short_dir):
    async def scenario():
        app = console(short_dir / "s.sock")
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            await pilot.press("down", "down", "enter")
            assert isinstance(app.screen, FrameScreen)
            assert (app.screen.frame.reason or "").startswith("FrameIncomplete")
            await pilot.press("escape")
            assert not isinstance(app.screen, FrameScreen)
    with CannedService(short_dir / "s.sock", busy_snapshot()):
        asyncio.run(scenario())


def test_waits_for_a_service_and_attaches_when_it_appears(short_dir):
    async def scenario(service: CannedService):
        app = console(short_dir / "s.sock")
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WaitingScreen), what="waiting")
            assert "DISCONNECTED" in header_text(app)
            assert app.check_action("toggle_pause", ()) is None  # no service: disabled
            await pilot.press("p")  # ... so the key sends nothing, and nothing breaks
            await asyncio.to_thread(service.start)
            await until(pilot, lambda: app.view.connected, timeout=3, what="attach")
            await until(pilot, lambda: not isinstance(app.screen, WaitingScreen),
                        what="the waiting screen to go")
            assert app.check_action("toggle_pause", ()) is True
        assert service.requests == []
    with CannedService(short_dir / "s.sock", quiet_snapshot(), serving=False) as service:
        asyncio.run(scenario(service))


def test_reconnects_by_itself_when_the_service_restarts(short_dir):
    async def scenario(service: CannedService):
        app = console(short_dir / "s.sock")
        async with app.run_test(size=WIDE) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            await asyncio.to_thread(service.stop)
            await until(pilot, lambda: isinstance(app.screen, WaitingScreen), what="waiting")
            assert app.view.recent  # the last picture stays, behind the waiting screen
            service.snapshot = quiet_snapshot()
            await asyncio.to_thread(service.start)
            await until(pilot, lambda: app.view.connected, timeout=3, what="reattach")
            await until(pilot, lambda: app.dashboard.query_one(RecentFrames).border_title
                        == "Recent frames (0)", what="fresh picture")
    with CannedService(short_dir / "s.sock", busy_snapshot()) as service:
        asyncio.run(scenario(service))



def test_every_action_is_in_the_command_palette(short_dir):
    async def scenario(service: CannedService):
        app = console(short_dir / "s.sock")
        async with app.run_test(size=WIDE) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            titles = [command.title for command in app.get_system_commands(app.screen)]
            for title in ("Pause intake", "Resume intake", "Retry frame", "Process file",
                          "Stop service", "Log level", "Quit"):
                assert title in titles
            assert "Quit console" not in titles  # one way to quit, named once
            await pilot.press("ctrl+p")
            await pilot.press(*"Resume intake")
            commands = app.screen.query_one(CommandList)
            await until(pilot, lambda: commands.option_count
                        and "Resume intake" in str(commands.get_option_at_index(0).prompt),
                        what="the palette match")
            await pilot.press("enter")
            await until(pilot, lambda: service.requests, what="the resume request")
        assert service.requests == [("resume", {})]
    with CannedService(short_dir / "s.sock", busy_snapshot()) as service:
        asyncio.run(scenario(service))


def test_dropped_events_are_shown(short_dir):
    async def scenario():
        app = console(short_dir / "s.sock")
        async with app.run_test(size=WIDE) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            app.post_message(ServiceLink.Event(Dropped(5)))
            await until(pilot, lambda: "5 events dropped" in header_text(app),
                        what="the dropped count")
    with CannedService(short_dir / "s.sock", busy_snapshot()):
        asyncio.run(scenario())


def test_socket_from_the_command_line_or_the_configuration(tmp_path):
    assert socket_from_args(build_parser().parse_args(["--socket", "/run/dm.sock"])) == (
        Path("/run/dm.sock"), None)
    ini = write_config(tmp_path, server={"controlSocket": "ctl.sock"})
    socket, config = socket_from_args(build_parser().parse_args(["-c", str(ini)]))
    assert socket == tmp_path / "state" / "ctl.sock" and config == ini
    (tmp_path / "bad.ini").write_text("[paths]\nnoSuchKey = 1\n")
    with pytest.raises(SystemExit) as stop:
        socket_from_args(build_parser().parse_args(["-c", str(tmp_path / "bad.ini")]))
    assert stop.value.code == 78


def test_an_unexpected_error_in_the_link_restarts_it(short_dir, monkeypatch):
    real_forward = ServiceLink._forward
    calls = []

    async def forward_failing_once(self, connection):
        calls.append(1)
        if len(calls) == 1:
            await connection.close()
            raise RuntimeError("a bug")
        return await real_forward(self, connection)

    monkeypatch.setattr(ServiceLink, "_forward", forward_failing_once)

    async def scenario():
        app = console(short_dir / "s.sock")
        async with app.run_test(size=WIDE) as pilot:
            await until(pilot, lambda: app.view.connected, timeout=5, what="attach after a bug")
            assert len(calls) == 2
    with CannedService(short_dir / "s.sock", busy_snapshot()):
        asyncio.run(scenario())


def shown_line(app: DatamanConsole, selector: str, y: int) -> str:
    """Line ``y`` of a table as the terminal shows it (0 is the column labels)."""
    return app.dashboard.query_one(selector, DataTable).render_line(y).text


def recent_titles(app: DatamanConsole) -> str:
    return str(app.dashboard.query_one(RecentFrames).border_title)


def test_a_frame_listed_twice_in_the_snapshot_gets_one_row(short_dir):
    """Issue 5: the console died (DuplicateKey) attaching to a service that listed a frame
    once per outcome; the newest (first) entry is the frame's row."""
    busy = busy_snapshot()
    delivered = frame(142, instrument="MODS1R", roi="3kx3k", finished=1, latency=41.5)
    # 0142 waited for repoDir, then was delivered: an older service listed both outcomes.
    snapshot = replace(busy, recent=(delivered, *busy.recent))

    async def scenario():
        app = console(short_dir / "s.sock")
        async with app.run_test(size=WIDE) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            await pilot.pause()
            assert app.is_running and app.return_code is None
            table = app.dashboard.query_one(RecentFrames)
            assert table.row_count == 12
            assert [cell(app, "#recent", row, 1) for row in (0, 1, 2)] == [
                "mods1r.20251230.0142", "mods1b.20251230.0143", "mods1b.20251230.0141"]
            assert cell(app, "#recent", 0, "result") == "ok"
            assert cell(app, "#recent", 0, "total") == "41.50s"
            assert recent_titles(app) == "Recent frames (12: 1 BAD, 1 WARN, 1 failed)"
    with CannedService(short_dir / "s.sock", snapshot):
        asyncio.run(scenario())


def test_a_frame_event_for_a_frame_shown_updates_its_row(short_dir):
    async def scenario(service: CannedService):
        app = console(short_dir / "s.sock")
        async with app.run_test(size=WIDE) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            await pilot.pause()
            assert cell(app, "#recent", 1, "result") == "waiting"  # 0142, waiting for repoDir
            service.publish(FrameFinished(frame(142, instrument="MODS1R", roi="3kx3k",
                                                latency=41.5)))
            await until(pilot, lambda: cell(app, "#recent", 0, 1) == "mods1r.20251230.0142",
                        what="the delivered frame on top")
            assert cell(app, "#recent", 0, "result") == "ok"
            assert app.dashboard.query_one(RecentFrames).row_count == 12
            assert cell(app, "#recent", 1, 1) == "mods1b.20251230.0143"
            service.publish(FrameFinished(frame(141, result="ok", latency=300.0)))  # retried
            await until(pilot, lambda: recent_titles(app) == "Recent frames (12: 1 BAD, 1 WARN)",
                        what="the retried frame's row")
            assert cell(app, "#recent", 0, 1) == "mods1b.20251230.0141"
            assert app.is_running
    with CannedService(short_dir / "s.sock", busy_snapshot()) as service:
        asyncio.run(scenario(service))


@pytest.mark.parametrize("key", ["q", "escape", "ctrl+c"])
def test_the_waiting_screen_quits_on_q_escape_and_ctrl_c(short_dir, key):
    async def scenario():
        app = console(short_dir / "s.sock")
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WaitingScreen)
                        and app.screen.query("#hint"), what="the waiting screen")
            assert "q quits" in str(app.screen.query_one("#hint", Label).render())
            await pilot.press(key)
            await until(pilot, lambda: app.return_code is not None, what="the console to quit")
        assert app.return_code == 0
    asyncio.run(scenario())


def test_the_queue_keeps_its_note_column_at_120_columns(short_dir):
    async def scenario():
        app = console(short_dir / "s.sock")
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            await pilot.pause()
            # Beside the workers (without memory and frames done), the queue has 58 cells:
            # frame 20 and waited 7, padded, leave the note 23 cells and its padding.
            assert shown_line(app, "#queue", 0).split() == ["frame", "waited", "note"]
            assert shown_line(app, "#queue", 2) == (
                " mods1r.20251230.0143  1m15s    still growing while it… ")
            assert shown_line(app, "#workers", 0).split() == [
                "#", "pid", "state", "frame", "step", "for", "cpu"]
            # From 160 columns every column is back: the queue has 84 cells, the note 34.
            await pilot.resize_terminal(160, 48)
            await until(pilot, lambda: shown_line(app, "#queue", 2).startswith(" 2 "),
                        what="every column at 160 columns")
            assert shown_line(app, "#queue", 2) == (
                " 2    mods1r.20251230.0143  scan      1m15s    "
                "still growing while it was read; … ")
    with CannedService(short_dir / "s.sock", busy_snapshot()):
        asyncio.run(scenario())


def test_the_queue_title_counts_every_frame_waiting(short_dir):
    """The service lists the first 200 of the queue; its title says how many wait."""
    busy = busy_snapshot()
    snapshot = replace(busy, counts=replace(busy.counts, queue_total=10_000))

    async def scenario(service: CannedService):
        app = console(short_dir / "s.sock")
        async with app.run_test(size=WIDE) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            queue = app.dashboard.query_one("#queue", DataTable)
            await until(pilot, lambda: queue.row_count == 2, what="the queue rows")
            assert queue.border_title == "Queue (10,000; first 2 shown)"
            service.publish(CountsChanged(replace(snapshot.counts, queue_total=9_999)))
            await until(pilot, lambda: queue.border_title == "Queue (9,999; first 2 shown)",
                        what="the new total")
    with CannedService(short_dir / "s.sock", snapshot) as service:
        asyncio.run(scenario(service))


@pytest.mark.parametrize(("size", "counts"), [
    (WIDE, "tonight: 2 running, 1 awaiting delivery, 140 delivered, 1 BAD, 1 WARN, 1 failed"),
    ((80, 24), "tonight: 140 delivered, 1 BAD, 1 WARN, 1 failed")])
def test_the_header_says_which_counts_are_tonights(short_dir, size, counts):
    """One failure count in sight: tonight's, in the counts and in the health problem."""
    async def scenario():
        app = console(short_dir / "s.sock")
        async with app.run_test(size=size) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            await pilot.pause()
            text = header_text(app)
            assert counts in text
            assert "1 failed tonight, last mods1b.20251230.0141.fits" in " ".join(text.split())
            assert "queued" not in text  # the queue panel (or line) has every frame waiting
            assert len(text.splitlines()[0]) <= size[0] - 2  # the counts on one line
    with CannedService(short_dir / "s.sock", busy_snapshot()):
        asyncio.run(scenario())


def test_the_log_shows_level_names_in_full(short_dir):
    async def scenario():
        app = console(short_dir / "s.sock")
        async with app.run_test(size=WIDE) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            await pilot.press("l", "l", "l")  # all levels
            lines = [line.text for line in app.dashboard.query_one(LogView).lines]
            assert [line[9:18] for line in lines] == [
                "INFO     ", "DEBUG    ", "ERROR    ", "INFO     ", "WARNING  ", "INFO     ",
                "INFO     "]
    with CannedService(short_dir / "s.sock", busy_snapshot()):
        asyncio.run(scenario())


class RecentOnly(App[None]):
    def compose(self) -> ComposeResult:
        yield RecentFrames()


def test_the_recent_frames_table_gives_a_repeated_frame_one_row():
    """The table stands on its own: a list naming a frame twice shows its first, newest,
    entry (the model already keeps one; a row key added twice would end the console)."""
    async def scenario():
        app = RecentOnly()
        async with app.run_test(size=WIDE) as pilot:
            view = ServiceView()
            view.recent = [frame(142, latency=41.5), frame(143),
                           frame(142, result="waiting", latency=None)]
            table = app.query_one(RecentFrames)
            table.show(view)
            await pilot.pause()
            assert table.row_count == 2
            assert [str(table.get_cell_at((row, 3))) for row in (0, 1)] == ["ok", "ok"]
            assert str(table.get_cell_at((0, 6))) == "41.50s"
            assert table.border_title == "Recent frames (2)"
    asyncio.run(scenario())


@pytest.mark.parametrize(("version", "upgrade"), [
    (PROTOCOL_VERSION + 1, "upgrade this console"),
    (PROTOCOL_VERSION - 1, "upgrade the dataMan service")])
def test_a_service_speaking_another_protocol_version_is_named_on_the_waiting_screen(
        short_dir, version, upgrade):
    expected = (f"dataMan service speaks control protocol {version}, this console speaks "
                f"{PROTOCOL_VERSION}: {upgrade}")

    def status(app: DatamanConsole) -> str:
        return " ".join(str(app.screen.query_one("#status", Static).render()).split())

    async def scenario():
        app = console(short_dir / "s.sock")
        async with app.run_test(size=WIDE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WaitingScreen)
                        and app.screen.query("#status") and expected in status(app),
                        what="the version message")
            assert app.is_running and not app.view.connected
            assert expected in app.view.reason
    with pf.service_speaking(short_dir / "s.sock", version):
        asyncio.run(scenario())


# --- the quality checks' verdict ----------------------------------------------------


def test_the_recent_frames_show_each_frames_quality_verdict(short_dir):
    async def scenario():
        app = console(short_dir / "s.sock")
        async with app.run_test(size=WIDE) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            await pilot.pause()
            table = app.dashboard.query_one("#recent", DataTable)
            # The verdict sits beside the name, so it is the last column ever cut.
            assert [str(label) for label in
                    (column.label for column in table.columns.values())][1:3] == ["frame", "qc"]
            # 0143 BAD, 0142 OK (waiting), 0141 failed: not checked, 0140 WARN, 0139 OK
            assert [cell(app, "#recent", row, "qc") for row in range(5)] == [
                "BAD", "OK", "-", "WARN", "OK"]
            # A flagged frame's name takes the verdict's colour; a clean one has none.
            error = app.theme_variables["text-error"].lower()
            warning = app.theme_variables["text-warning"].lower()
            names = [table.get_cell_at((row, 1)) for row in range(5)]
            assert error in str(names[0].style).lower()
            assert warning in str(names[3].style).lower()
            assert str(names[1].style) == ""
    with CannedService(short_dir / "s.sock", busy_snapshot()):
        asyncio.run(scenario())


def test_the_frame_detail_shows_every_finding_and_each_amplifiers_values(short_dir):
    async def scenario():
        app = console(short_dir / "s.sock")
        async with app.run_test(size=WIDE) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            await pilot.pause()
            text = str(app.dashboard.query_one("#detail", Static).render())
            # One verdict, first: the quality's, with its flags (the frame was delivered).
            assert text.startswith("BAD  mods1b.20251230.0143.fits\nIM2:dead IM3:noise\n")
            assert "OK" not in text and "delivered /newdata/mods1b.20251230.0143.fits" in text
            assert "✗ IM2:dead IM2 data columns constant at 1012 DN" in text
            assert "✗ IM3:noise IM3 read noise 9.80 DN outside 2.00..8.00" in text
            # Each amplifier's values are in the quality panel beside it, so not here ...
            assert "IM2 bias" not in text
            await pilot.press("enter")  # ... but in the frame shown in full
            await until(pilot, lambda: isinstance(app.screen, FrameScreen), what="the frame")
            await pilot.pause()
            text = str(app.screen.query_one(Static).render())
            # canned: bias 1000 + 10 n (+0 for the newest), noise as given, nothing saturated
            assert "IM2 bias 1010.0  noise 0.00  sat 0.00%" in text
            assert "IM3 bias 1020.0  noise 9.80  sat 0.00%" in text
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("down", "down")  # the failed frame: no verdict at all
            await pilot.pause()
            text = str(app.dashboard.query_one("#detail", Static).render())
            assert text.startswith("FAILED  mods1b.20251230.0141.fits\n")
            assert "FrameIncomplete" in text and "✗" not in text and "?" not in text
    with CannedService(short_dir / "s.sock", busy_snapshot()):
        asyncio.run(scenario())


def values(panel, amp: str, kind: str) -> list[float]:
    return [point.value for point in panel.lines[(amp, kind)].points]


def outs(panel, amp: str, kind: str) -> list[bool]:
    return [point.out for point in panel.lines[(amp, kind)].points]


def test_the_quality_panel_draws_each_amplifiers_trend_of_one_channel(short_dir):
    from dataman.tui.widgets.quality_trends import AMPS, QualityTrends, bars

    async def scenario():
        app = console(short_dir / "s.sock")
        async with app.run_test(size=WIDE) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            await pilot.pause()
            panel = app.dashboard.query_one(QualityTrends)
            assert panel.instrument == "MODS1B" and panel.border_title == "Quality MODS1B"
            # MODS1B checked frames, oldest first: 0132..0139 (indexes 11..4), then 0143 (0)
            assert values(panel, "IM1", "bias") == [
                1000.0 + index % 5 for index in (11, 10, 9, 8, 7, 6, 5, 4, 0)]
            assert values(panel, "IM3", "noise")[-1] == 9.8
            assert str(panel.values[("IM3", "noise")].render()) == "9.80"
            # the bands of the snapshot (noise 2..8) in the heading; out of band, or an
            # amplifier flagged dead, only in the newest frame (0143)
            assert str(panel.headings["noise"].render()) == "noise ▁2..8█ DN"
            assert str(panel.headings["bias"].render()) == "bias ▁200..5000█ DN"
            # One scale per quantity, the band: 3.0 DN is the same bar on every amplifier.
            assert {panel.lines[(amp, "noise")].span for amp in AMPS} == {(2.0, 8.0)}
            drawn = {amp: bars(panel.lines[(amp, "noise")].points, 60, (2.0, 8.0))
                     for amp in AMPS}
            assert drawn["IM1"][0] == drawn["IM3"][0] == ("▃", False)  # 3.5 DN, 0132
            assert drawn["IM3"][-1] == ("█", True)  # 9.8 DN, beyond the band's top
            assert outs(panel, "IM3", "noise") == [False] * 8 + [True]  # 9.8 > 8
            assert outs(panel, "IM2", "bias") == [False] * 8 + [True]  # IM2:dead
            assert outs(panel, "IM1", "bias") == [False] * 9
            assert panel.values[("IM3", "noise")].has_class("-out")
            assert not panel.values[("IM1", "noise")].has_class("-out")
            await pilot.press("down", "down", "down")  # 0140, a MODS1R frame
            await pilot.pause()
            assert panel.instrument == "MODS1R"
            assert values(panel, "IM2", "bias") == [1013.0, 1011.0]  # 0140, then 0142
            assert panel.border_title == "Quality MODS1R"
            assert str(panel.values[("IM2", "bias")].render()) == "1013.0"  # 0140's own
        small = console(short_dir / "s.sock")
        async with small.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: small.view.connected, what="attach")
            await pilot.pause()
            assert not small.dashboard.query_one(QualityTrends).region.area  # no room: hidden
    with CannedService(short_dir / "s.sock", busy_snapshot()):
        asyncio.run(scenario())


def test_the_detail_says_it_is_pinned_and_n_follows_the_newest_again(short_dir):
    async def scenario(service: CannedService):
        app = console(short_dir / "s.sock")
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            await pilot.pause()
            detail = app.dashboard.query_one("#detail", Static)
            assert not detail.border_subtitle  # on the newest frame: it follows
            await pilot.press("down", "down")
            await pilot.pause()
            assert detail.border_subtitle == "pinned · n: newest"
            service.publish(FrameFinished(frame(146, finished=0)))
            await until(pilot, lambda: cell(app, "#recent", 0, "frame")
                        == "mods1b.20251230.0146", what="the new frame on top")
            assert str(detail.render()).startswith("FAILED  mods1b.20251230.0141.fits")
            await pilot.press("n")
            await until(pilot, lambda: str(detail.render()).startswith(
                "OK  mods1b.20251230.0146.fits"), what="the newest frame in the detail")
            assert not detail.border_subtitle
    with CannedService(short_dir / "s.sock", busy_snapshot()) as service:
        asyncio.run(scenario(service))


def test_the_process_prompt_is_whole_in_80x24(short_dir):
    async def scenario():
        app = console(short_dir / "s.sock")
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            await pilot.press("f")
            await until(pilot, lambda: isinstance(app.screen, ProcessFileScreen), what="f")
            await pilot.pause()
            prompt = app.screen.query(Label).first()
            shown = " ".join(str(prompt.render()).split())
            assert shown == ("Process a raw frame: its file name in dataDir/<chan>/ "
                             "(a path works too)")
            assert prompt.region.height >= 2  # wrapped, not cut at the panel's edge
    with CannedService(short_dir / "s.sock", busy_snapshot()):
        asyncio.run(scenario())
