"""The console's view of the service, without Textual: snapshot, events, questions."""

from __future__ import annotations

from dataclasses import replace

from dataman.ipc.protocol_events import (
    CountsChanged,
    Dropped,
    FrameFinished,
    FrameRefused,
    LogAppended,
    QueueChanged,
    ServiceChanged,
)
from dataman.ipc.protocol_snapshot import LogEntry
from dataman.tui.format import duration, short_name, since, size
from dataman.tui.model import MAX_RECENT, ServiceView, level_rank
from dataman.tui.widgets.frame_detail import step_cells
from tests.tui.canned import NOW, busy_snapshot, frame


def attached() -> ServiceView:
    view = ServiceView()
    view.attach(busy_snapshot())
    return view


def test_new_view_is_disconnected_and_down():
    view = ServiceView()
    assert view.state == "disconnected"
    assert view.verdict == (2, "DOWN", ["service not running (not connected yet)"])
    assert view.uptime(NOW) is None


def test_attach_takes_every_section_of_the_snapshot():
    view = attached()
    assert view.state == "running"
    assert view.uptime(NOW) == 3 * 3600 + 725
    assert [item.name for item in view.queue] == ["mods1b.20251230.0145.fits",
                                                     "mods1r.20251230.0143.fits"]
    assert len(view.workers) == 3 and len(view.recent) == 12 and len(view.log) == 7
    assert view.verdict[:2] == (1, "WARNING")


def test_replaceable_event_replaces_its_section():
    view = attached()
    assert view.apply(QueueChanged(())) == "queue"
    assert view.queue == ()
    assert view.service is not None
    assert view.apply(ServiceChanged(replace(view.service, state="paused"))) == "service"
    assert view.state == "paused"


def test_an_unchanged_section_changes_nothing():
    view = attached()
    assert view.counts is not None
    assert view.apply(CountsChanged(replace(view.counts))) == ""


def test_frame_event_goes_on_top_and_replaces_an_earlier_entry_of_the_same_frame():
    view = attached()
    delivered = frame(142, instrument="MODS1R", result="ok", latency=9.5)
    assert view.apply(FrameFinished(delivered)) == "recent"
    names = [item.name for item in view.recent]
    assert names[0] == "mods1r.20251230.0142.fits"
    assert names.count("mods1r.20251230.0142.fits") == 1
    assert view.frame("mods1r.20251230.0142.fits") == delivered
    assert view.last is not None and view.last.name == "mods1r.20251230.0142.fits"


def test_recent_frames_are_bounded():
    view = attached()
    for number in range(1000, 1000 + MAX_RECENT + 5):
        view.apply(FrameFinished(frame(number)))
    assert len(view.recent) == MAX_RECENT
    assert view.recent[0].name == f"mods1b.20251230.{999 + MAX_RECENT + 5}.fits"


def test_log_events_append_and_levels_rank_as_the_log_view_filters_them():
    view = attached()
    view.apply(LogAppended(LogEntry(time=NOW, level="ERROR", message="boom")))
    assert view.log[-1].message == "boom"
    warning = level_rank("WARNING")
    assert [r.level for r in view.log if level_rank(r.level) >= warning] == [
        "ERROR", "WARNING", "ERROR"]
    assert len(view.log) == 8


def test_dropped_events_are_counted():
    view = attached()
    view.apply(Dropped(3))
    view.apply(Dropped(2))
    assert view.dropped == 5


def test_a_refused_frame_changes_no_section():
    view = attached()
    assert view.apply(FrameRefused("mods1b.20251230.0143.fits", "192.0.2.7:5000",
                                   "already delivered")) == ""


def test_detach_keeps_the_last_picture_but_says_down():
    view = attached()
    view.detach("no socket file /tmp/x/dataman.sock")
    assert view.state == "disconnected" and view.attempts == 1
    assert view.verdict == (2, "DOWN",
                            ["service not running (no socket file /tmp/x/dataman.sock)"])
    assert len(view.recent) == 12
    view.attach(busy_snapshot())
    assert view.state == "running" and view.attempts == 0


def test_latencies_are_oldest_first_and_leave_out_failed_frames():
    view = ServiceView()
    view.attach(replace(busy_snapshot(), recent=(
        frame(3, latency=0.7), frame(2, result="failed", latency=0.1), frame(1, latency=0.5))))
    assert view.latencies() == [0.5, 0.7]


def test_level_rank_orders_levels_and_treats_unknown_as_info():
    assert level_rank("debug") < level_rank("INFO") < level_rank("WARN") < level_rank("ERROR")
    assert level_rank("NOTICE") == level_rank("INFO")


def test_formats():
    assert [duration(value) for value in (None, 0.423, 42.4, 725, 11520, 183600)] == [
        "-", "0.42 s", "42 s", "12m05s", "3h12m", "2d03h"]
    assert [size(value) for value in (None, 512, 1_500_000, 120e9, 2.5e15)] == [
        "-", "512 B", "1.5 MB", "120 GB", "2.5 PB"]
    assert since(NOW - 75, NOW) == "1m15s" and since(None, NOW) == "-"
    assert short_name("mods1b.20251230.0143.fits") == "mods1b.20251230.0143"


def test_step_cells_fill_the_width_in_proportion():
    timings = {"read": 0.3, "fixes": 0.01, "otm": 0.1, "write": 0.1, "deliver": 0.0}
    assert step_cells(timings, 20) == [("read", 11), ("fixes", 1), ("otm", 4), ("write", 4)]
    assert sum(count for _, count in step_cells(timings, 57)) == 57
    assert step_cells({}, 20) == []


def test_a_frame_listed_twice_in_a_snapshot_is_kept_once_with_its_newest_outcome():
    """Issue 5: a service that lists a frame per outcome (newest first)."""
    view = ServiceView()
    view.attach(replace(busy_snapshot(), recent=(
        frame(142, result="ok", latency=41.0), frame(143, latency=0.6),
        frame(142, result="waiting", latency=None, delivered=None))))
    assert [(item.name, item.result) for item in view.recent] == [
        ("mods1b.20251230.0142.fits", "ok"), ("mods1b.20251230.0143.fits", "ok")]
    assert view.latencies() == [0.6, 41.0]


def test_queue_total_is_the_count_of_every_frame_waiting():
    view = attached()
    assert view.queue_total == 2
    assert view.counts is not None
    view.apply(CountsChanged(replace(view.counts, queue_total=10_000)))
    assert view.queue_total == 10_000 and len(view.queue) == 2
    assert ServiceView().queue_total == 0  # before the first snapshot


def test_the_frame_detail_heads_with_one_verdict_and_says_what_the_frame_is():
    from dataman.tui.widgets.frame_detail import heading, verdict

    bad = replace(frame(150, imagetyp="OBJECT", exptime=300.0, object_name="NGC 1976",
                        ccd_temp=-110.24, base_temp=-80.96),
                  qc_status="BAD", qc_flags="IM2:dead")
    assert verdict(bad) == ("BAD", "text-error")
    assert [line.plain for line in heading(bad, width=52)][:5] == [
        "BAD  mods1b.20251230.0150.fits", "IM2:dead", "OBJECT  300 s  NGC 1976",
        "MODS1B  full  bin 1x1  CCD -110.2 °C  base -81.0 °C",  # a line of 51 cells
        "finished 03:12:46 UTC"]
    waiting = frame(151, result="waiting", delivered=None, reason="repoDir unreachable")
    assert heading(waiting)[0].plain == "OK  mods1b.20251230.0151.fits  waiting"
    failed = frame(152, result="failed", roi="", binning="", instrument="MODS1B",
                   delivered=None, processed=None,
                   reason="mods1b.20251230.0152.fits: truncated (IM3 1544 of 3088 rows)")
    lines = [line.plain for line in heading(failed)]
    assert lines[:3] == ["FAILED  mods1b.20251230.0152.fits",
                         "MODS1B  finished 03:12:46 UTC",  # no "?" for what is not known
                         "truncated (IM3 1544 of 3088 rows)"]  # the name said once


def test_a_failed_frame_queued_again_is_not_counted_in_the_recent_frames_title():
    from dataman.ipc.protocol_snapshot import QueueEntry
    from dataman.tui.widgets.recent_frames import title

    view = ServiceView()
    failed = frame(141, result="failed", delivered=None)
    frames = [frame(143, qc_status="BAD"), failed, frame(140, qc_status="WARN")]
    assert title(view, frames) == "Recent frames (3: 1 BAD, 1 WARN, 1 failed)"
    view.queue = (QueueEntry(failed.name, "mods1b", "console", NOW, None, None),)
    assert title(view, frames) == "Recent frames (3: 1 BAD, 1 WARN)"  # retried: as counts
