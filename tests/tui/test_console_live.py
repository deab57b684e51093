"""The console against a real ``dataman run`` (Pilot): frames, a failure, pause, restarts."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import DataTable

from dataman.tui.app import DatamanConsole
from dataman.tui.screens.confirm import ConfirmScreen
from dataman.tui.screens.waiting import WaitingScreen
from dataman.tui.widgets.frame_detail import FrameDetail
from dataman.tui.widgets.recent_frames import RecentFrames
from dataman.tui.widgets.status_header import StatusHeader
from tests.service_harness import frames
from tests.tui.conftest import until

pytestmark = [
    pytest.mark.slow,
]

SIZE = (160, 48)


def header(app: DatamanConsole) -> str:
    return str(app.dashboard.query_one(StatusHeader).render())


def results(app: DatamanConsole) -> dict[str, str]:
    """name -> result, as the recent frames table shows them."""
    return {frame["name"]: frame["result"] for frame in app.view.recent}


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
            await until(pilot, lambda: "delivered 3" in header(app), what="the counts")
            newest = app.view.recent[0]
            assert set(newest["timings"]) == {"read", "fixes", "otm", "checks", "write", "deliver",
                                              "thumbnail"}
            assert app.view.transfers["last"]["MODS1B"] == newest["name"]
            assert any("delivered" in record["message"] for record in app.view.log)
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
            assert "FAILED" in detail and app.view.recent[0]["reason"]
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
            assert app.view.queue[0]["name"] == raw.name and not app.view.recent
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
            first_pid = app.view.service["pid"]
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
            assert app.view.service["pid"] != first_pid
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
            assert "RUNNING" in header(app)
    asyncio.run(scenario())
    assert service.stop() == 0
