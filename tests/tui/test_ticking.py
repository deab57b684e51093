"""The once-a-second tick changes only the elapsed-time cells; the log writes each record once."""

from __future__ import annotations

import asyncio

from textual.app import App, ComposeResult
from textual.widgets.data_table import ColumnKey

from dataman.ipc.protocol_events import LogAppended
from dataman.ipc.protocol_snapshot import LogEntry
from dataman.tui.model import ServiceView
from dataman.tui.widgets.log_view import LogView
from dataman.tui.widgets.queue_table import QueueTable
from dataman.tui.widgets.workers_table import WorkersTable
from tests.tui.canned import NOW, busy_snapshot

DAY = 86400.0


class Panels(App[None]):
    def compose(self) -> ComposeResult:
        yield QueueTable()
        yield WorkersTable()
        yield LogView()


def run(scenario) -> None:
    async def main() -> None:
        app = Panels()
        async with app.run_test(size=(120, 40)) as pilot:
            view = ServiceView()
            view.attach(busy_snapshot())
            await scenario(pilot, view)
    asyncio.run(main())


def column(table, key: str) -> list[str]:
    return [str(cell) for cell in table.get_column(key)]


def test_queue_tick_updates_waited_and_retry_in_place():
    async def scenario(pilot, view: ServiceView) -> None:
        table = pilot.app.query_one(QueueTable)
        table.show(view, NOW)
        rows = list(table.rows)
        assert column(table, "waited") == ["4.20 s", "1m15s"]
        # The frame's name, which the service's reason starts with, is in the row already.
        assert column(table, "note") == ["", "still growing while it was read; retry in 20 s"]
        table.tick(NOW + 10)
        assert list(table.rows) == rows
        assert column(table, "waited") == ["14 s", "1m25s"]
        assert column(table, "note") == ["", "still growing while it was read; retry in 10 s"]
    run(scenario)


def test_queue_columns_keep_their_width_from_one_second_to_the_next():
    async def scenario(pilot, view: ServiceView) -> None:
        table = pilot.app.query_one(QueueTable)
        table.show(view, NOW)
        await pilot.pause()

        def widths() -> list[int]:
            return [column.get_render_width(table) for column in table.ordered_columns]
        before = widths()
        # 120 columns: #, frame, from and waited take 3+20+8+7 cells, each padded by one
        # on both sides; the note has the rest.
        assert before == [5, 22, 10, 9, 120 - 46]
        table.tick(NOW + 30)
        await pilot.pause()
        assert column(table, "note") == ["", "still growing while it was read"]
        table.tick(NOW + 123 * DAY)
        await pilot.pause()
        assert column(table, "waited")[0] == "123d00h"
        assert widths() == before
    run(scenario)


def test_workers_column_widens_but_never_narrows():
    async def scenario(pilot, view: ServiceView) -> None:
        table = pilot.app.query_one(WorkersTable)
        table.show(view, NOW)
        await pilot.pause()
        elapsed = table.columns[ColumnKey("for")]
        assert elapsed.content_width == len("0.40 s")
        table.tick(NOW + 123 * DAY)
        await pilot.pause()
        assert column(table, "for")[0] == "123d00h"
        assert elapsed.content_width == len("123d00h")
        table.tick(NOW + 1)
        await pilot.pause()
        assert column(table, "for")[0] == "1.40 s"
        assert elapsed.content_width == len("123d00h")
    run(scenario)


def test_workers_tick_updates_busy_workers_only():
    async def scenario(pilot, view: ServiceView) -> None:
        table = pilot.app.query_one(WorkersTable)
        table.show(view, NOW)
        rows = list(table.rows)
        assert column(table, "for") == ["0.40 s", "12 s", ""]
        table.tick(NOW + 60)
        assert list(table.rows) == rows
        assert column(table, "for") == ["1m00s", "1m12s", ""]
        assert table.border_title == "Workers (2 busy / 3)"
    run(scenario)


def test_log_record_written_once_when_a_reload_runs_ahead_of_the_append():
    async def scenario(pilot, view: ServiceView) -> None:
        log = pilot.app.query_one(LogView)
        log.reload(view.log)
        assert log.border_title == "Log (INFO and above: 6 of 7)"
        record = LogEntry(time=NOW, level="ERROR", message="mods1b.20251230.0146.fits failed")
        view.apply(LogAppended(record))
        log.reload(view.log)  # a filter change or a resize before the app's next redraw
        log.append(record)
        assert log.shown == 7
        assert log.border_title == "Log (INFO and above: 7 of 8)"
        later = LogEntry(time=NOW + 1, level="INFO", message="mods1b.20251230.0147.fits ok")
        view.apply(LogAppended(later))
        log.append(later)
        assert log.shown == 8
    run(scenario)
