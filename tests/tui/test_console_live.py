"""The console against a real ``dataman run`` (Pilot): frames, a failure, pause, restarts."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from textual.widgets import DataTable

from dataman.ipc.protocol_requests import PauseRequest, ResumeRequest, RetryRequest
from dataman.ipc.protocol_snapshot import Snapshot
from dataman.tui.app import DatamanConsole
from dataman.tui.screens.confirm import ConfirmScreen
from dataman.tui.screens.waiting import WaitingScreen
from dataman.tui.widgets.frame_detail import FrameDetail
from dataman.tui.widgets.recent_frames import RecentFrames
from dataman.tui.widgets.status_header import StatusHeader
from tests.service_harness import frames, wait_until
from tests.tui.canned import busy_snapshot
from tests.tui.conftest import until
from tests.tui.console_probe import probe_console_sync

pytestmark = [
    pytest.mark.slow,
]

SIZE = (160, 48)


def header(app: DatamanConsole) -> str:
    return str(app.dashboard.query_one(StatusHeader).render())


def results(app: DatamanConsole) -> dict[str, str]:
    """name -> result, as the recent frames table shows them."""
    return {frame.name: frame.result for frame in app.view.recent}


def rows(app: DatamanConsole) -> int:
    return app.dashboard.query_one(RecentFrames).row_count


def test_frames_flow_into_the_console(service_factory):
    service = service_factory(workers={"count": 2, "slots": 2}).start()

    async def scenario():
        app = DatamanConsole(service.socket_path)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            assert "RUNNING" in header(app) and "mods1" in header(app)
            workers = app.dashboard.query_one("#workers", DataTable)
            await until(pilot, lambda: workers.row_count == 2, what="two workers")
            raws = frames(service, 3)
            for raw in raws:
                service.send(raw)
            await until(pilot, lambda: all(results(app).get(raw.name) == "ok" for raw in raws),
                        timeout=60, what="three frames delivered")
            await until(pilot, lambda: rows(app) == 3, what="three rows")
            await until(pilot, lambda: "3 delivered" in header(app), what="the counts")
            newest = app.view.recent[0]
            assert set(newest.timings) == {"read", "fixes", "otm", "checks", "write",
                                           "deliver", "thumbnail"}
            # What the frame is and how cold the CCD was, from its header, to the detail.
            assert (newest.imagetyp, newest.exptime, newest.object_name) == (
                "OBJECT", 300.0, "NGC 1976")
            assert newest.ccd_temp is not None and newest.base_temp is not None
            await pilot.press("n")
            await until(pilot, lambda: "OBJECT  300 s  NGC 1976" in str(
                app.dashboard.query_one(FrameDetail).render()), what="the frame's kind")
            # two workers finish in either order; .new names the newest exposure
            await until(pilot, lambda: app.view.transfers is not None
                        and app.view.transfers.last.get("MODS1B") == raws[-1].name,
                        what="MODS1B.new naming the last exposure")
            assert any("delivered" in record.message for record in app.view.log)
    asyncio.run(scenario())
    assert service.stop() == 0


def test_a_failed_frame_shows_why_and_is_retried(service_factory):
    service = service_factory(service={"waitForWrite": 0.5}).start()
    raw = frames(service, 1, start=7)[0]
    whole = raw.read_bytes()
    raw.write_bytes(whole[:100_000])  # truncated: fails once waitForWrite is over

    async def scenario():
        app = DatamanConsole(service.socket_path)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            service.send(raw)
            await until(pilot, lambda: results(app).get(raw.name) == "failed", timeout=30,
                        what="the failure")
            await until(pilot, lambda: rows(app) == 1, what="the row")
            detail = str(app.dashboard.query_one(FrameDetail).render())
            assert "FAILED" in detail and app.view.recent[0].reason
            raw.write_bytes(whole)  # the observer fixed the file
            await pilot.press("r")
            await until(pilot, lambda: results(app).get(raw.name) == "ok", timeout=30,
                        what="the retried frame delivered")
    asyncio.run(scenario())
    assert service.stop() == 0


def test_pause_holds_frames_in_the_queue_until_resume(service_factory):
    service = service_factory().start()

    async def scenario():
        app = DatamanConsole(service.socket_path)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            await pilot.press("p")
            await until(pilot, lambda: "PAUSED" in header(app), what="paused")
            raw = frames(service, 1, start=11)[0]
            service.send(raw)
            queue = app.dashboard.query_one("#queue", DataTable)
            await until(pilot, lambda: queue.row_count == 1, timeout=10, what="a queued frame")
            assert app.view.queue[0].name == raw.name and not app.view.recent
            await pilot.press("p")
            await until(pilot, lambda: results(app).get(raw.name) == "ok", timeout=30,
                        what="the frame delivered after resume")
            await until(pilot, lambda: "RUNNING" in header(app) and queue.row_count == 0,
                        what="running with an empty queue")
    asyncio.run(scenario())
    assert service.stop() == 0


def test_stop_from_the_console_then_reattach_when_the_service_restarts(service_factory):
    service = service_factory().start()

    async def scenario():
        app = DatamanConsole(service.socket_path)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.view.connected, what="attach")
            assert app.view.service is not None
            first_pid = app.view.service.pid
            await pilot.press("s")
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("y")
            await until(pilot, lambda: isinstance(app.screen, WaitingScreen), timeout=30,
                        what="the waiting screen")
            assert "DISCONNECTED" in header(app)
            await asyncio.to_thread(service.process.wait, 30)
            await asyncio.to_thread(service.start)
            await until(pilot, lambda: app.view.connected, timeout=10, what="reattach")
            assert not isinstance(app.screen, WaitingScreen)
            assert app.view.service is not None and app.view.service.pid != first_pid
    asyncio.run(scenario())
    assert service.stop() == 0


def test_console_started_before_the_service_attaches_when_it_appears(service_factory):
    service = service_factory()

    async def scenario():
        app = DatamanConsole(service.socket_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WaitingScreen), what="waiting")
            await asyncio.to_thread(service.start)
            await until(pilot, lambda: app.view.connected, timeout=10, what="attach")
            # it may attach while the workers warm up (STARTING); RUNNING follows
            await until(pilot, lambda: "RUNNING" in header(app), timeout=10, what="running")
    asyncio.run(scenario())
    assert service.stop() == 0


def test_consoles_started_after_a_failure_a_retry_and_a_delivery_outage_live(service_factory):
    """Issue 5: once a frame had two outcomes, every console started afterwards died."""
    service = service_factory(service={"waitForWrite": 0.5, "deliveryRetryMax": 1}).start()
    broken, late = frames(service, 2, start=21)
    whole = broken.read_bytes()

    def console_lives(frames_shown: int) -> None:
        result = probe_console_sync(service.socket_path)
        assert result.ok, result
        assert result.rows == frames_shown

    broken.write_bytes(whole[:100_000])
    service.send(broken)
    service.wait_states([broken.name], "failed")
    console_lives(1)
    broken.write_bytes(whole)
    service.control(RetryRequest(broken.name))
    service.wait_states([broken.name])
    wait_until(lambda: service.snapshot().recent[0].result == "ok", 10,
               what="the retried frame in the snapshot")
    console_lives(1)  # failed, then delivered: one row

    repo = service.config.paths.repo_dir
    hidden = repo.with_name("newdata-unmounted")
    repo.rename(hidden)
    service.send(late)
    service.wait_states([late.name], "processed")
    console_lives(2)
    hidden.rename(repo)
    service.wait_states([late.name])
    wait_until(lambda: service.snapshot().recent[0].result == "ok", 10,
               what="the late frame delivered in the snapshot")
    console_lives(2)  # waited for the staging disk, then delivered: one row
    assert service.stop() == 0


def test_the_canned_snapshots_are_shaped_as_the_service_sends_them(service_factory):
    """tests/tui/canned.py had drifted (upper-case channels, another log file name): now it
    is built from the protocol's classes, and a real service's snapshot must decode into
    them strictly, with no field the classes do not know (which a client would ignore)."""
    service = service_factory().start()
    delivered = frames(service, 1)[0]
    service.send(delivered)
    service.wait_states([delivered.name])
    service.control(PauseRequest())
    queued = frames(service, 1, start=2)[0]
    service.send(queued)
    # The JSON itself, to compare its fields with the canned one's.
    wire = wait_until(lambda: (snap := service.wire_snapshot()) and snap["queue"] and snap, 10,
                      what="a queued frame")
    real = Snapshot.from_dict(wire, where="snapshot")
    assert real.queue and real.recent and real.workers and real.log and real.last
    canned = busy_snapshot().to_dict()
    assert set(wire) == set(canned)
    for section in ("service", "counts", "transfers", "last", "health"):
        assert set(wire[section]) == set(canned[section]), section
    for section in ("queue", "workers", "recent", "log"):
        assert all(set(item) == set(canned[section][0]) for item in wire[section]), section
    for snapshot in (busy_snapshot(), real):
        log_file, hostid = snapshot.service.log_file, snapshot.service.hostid
        assert re.fullmatch(rf"{hostid}dm\.\d{{8}}\.txt", Path(log_file).name), log_file
        assert all(item.channel == item.name.split(".")[0] for item in snapshot.queue)
        assert min(worker.index for worker in snapshot.workers) == 0
        assert all(item.instrument == item.name.split(".")[0].upper()
                   for item in snapshot.recent)
    service.control(ResumeRequest())
    assert service.stop() == 0
