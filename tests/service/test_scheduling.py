"""The supervisor's bookkeeping without processes: delivery backoff, worker states, job
messages, the night window and its summary, the scan's choice of files. Time is injected."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dataman.core.nightlog import observing_date
from dataman.ipc.jobs import Job, JobDone, MessageError, decode, encode
from dataman.ipc.slots import FrameBudget, SlotRef
from dataman.ipc.states import WorkerState
from dataman.service.backlog import DeliveryBacklog
from dataman.service.records import NightSummary
from dataman.service.scan import nights_to_scan, raw_frames
from dataman.service.summary import night_window, summary_lines
from dataman.service.worker_process import IllegalWorkerTransition, WorkerHandle
from dataman.service.worker_process import WorkerTransition as T


def test_delivery_backlog_tries_the_oldest_with_doubling_pauses_up_to_the_cap():
    backlog = DeliveryBacklog(max_delay=4.0)
    backlog.add(7, "b.fits", now=100.0, reason="No such file or directory (/newdata)")
    backlog.add(5, "a.fits", now=100.0)  # held back to keep order: no new pause
    assert backlog.names == ["a.fits", "b.fits"]
    assert backlog.due(100.5) is None and backlog.due(101.0).frame_id == 5
    pauses = []
    now = 101.0
    for _ in range(4):
        backlog.begin(5)
        assert backlog.due(now + 100) is None  # one attempt at a time
        backlog.failed(5, now, "still missing")
        pauses.append(backlog.next_attempt - now)
        now = backlog.next_attempt
    assert pauses == [2.0, 4.0, 4.0, 4.0]
    backlog.begin(5)
    backlog.succeeded(5)
    assert backlog.due(now).frame_id == 7  # the next one goes at once
    assert backlog.reason is None


def test_worker_states_move_only_along_named_transitions():
    worker = WorkerHandle(0, process=None, writer=None)  # type: ignore[arg-type]
    for transition, state in [(T.READY, WorkerState.IDLE), (T.ASSIGN, WorkerState.BUSY),
                              (T.FINISH, WorkerState.IDLE), (T.RETIRE, WorkerState.STOPPING),
                              (T.EXIT, WorkerState.EXITED)]:
        worker.move(transition)
        assert worker.state is state
    with pytest.raises(IllegalWorkerTransition, match="cannot ASSIGN while exited"):
        worker.move(T.ASSIGN)


def test_a_job_message_names_the_slot_and_stays_far_under_4_kib():
    budget = FrameBudget.largest()
    slot = SlotRef("dataman-0123456789-63", budget.raw_size, budget.merged_offset,
                   budget.merged_size)
    path = "/home/data/mods1b/" + "mods1b.20251230.0143.fits"
    job = Job(4242, path, slot.to_dict(), "mods1b.20251230.031245_12.fits", retry=True)
    line = encode(job)
    assert len(line) < 400  # measured: the whole job, with the longest slot name; budget 4 KiB
    assert decode(line) == job
    assert SlotRef.from_dict(decode(line).slot) == slot


def test_job_messages_are_versioned_and_checked():
    done = JobDone(1, "/proc/a.fits", "u.fits", timings={"read": 0.5})
    assert decode(encode(done)) == done
    for bad in (b"{", b'{"v": 2, "type": "job"}', b'{"v": 1, "type": "nope"}',
                b'{"v": 1, "type": "stop", "extra": 1}', b'{"v": 1, "type": "job"}'):
        with pytest.raises(MessageError):
            decode(bad)


def test_the_night_window_matches_the_observing_date_rule():
    start, end = night_window("20251231", utc_offset=7)
    at = lambda epoch: datetime.fromtimestamp(epoch, UTC)  # noqa: E731
    assert at(start) == datetime(2025, 12, 30, 19, 0, tzinfo=UTC)
    assert end - start == 86400
    assert observing_date(at(start), 7) == "20251231"
    assert observing_date(at(start - 1), 7) == "20251230"
    assert observing_date(at(end - 1), 7) == "20251231"
    assert observing_date(at(end), 7) == "20260101"


def test_the_night_summary_names_failed_frames_with_their_reasons():
    summary = NightSummary(requested=4, delivered=3,
                           failed=[("mods1b.20251230.0003.fits", "not FITS")],
                           latency_median=0.62, latency_max=1.5)
    assert summary_lines("20251230", summary) == [
        "night 20251230 summary: 4 requested, 3 delivered, 1 failed, "
        "latency median 0.62s max 1.50s",
        "night 20251230 failed: mods1b.20251230.0003.fits: not FITS"]
    empty = NightSummary(0, 0, [], None, None)
    assert summary_lines("20251230", empty, partial=True) == [
        "night 20251230 so far: 0 requested, 0 delivered, 0 failed, latency n/a"]


def test_the_scan_lists_raw_frames_of_the_two_nights_in_channel_folders_only(tmp_path):
    names = ["mods1b.20251230.0002.fits", "mods1b.20251230.0001.fits",
             "mods1r.20251229.0007.fits", "mods1b.20251101.0001.fits", "notes.txt",
             "mods2b.20251230.0001.fits.part"]
    for name in names:
        folder = tmp_path / name[:6]
        folder.mkdir(exist_ok=True)
        (folder / name).touch()
    (tmp_path / "mods1r" / "mods1b.20251230.0009.fits").touch()  # wrong channel folder
    nights = nights_to_scan(datetime(2025, 12, 30, 20, 0, tzinfo=UTC), utc_offset=7)
    assert nights == ["20251231", "20251230"]
    found = raw_frames(tmp_path, ["20251230", "20251229"])
    assert [path.name for path in found] == ["mods1b.20251230.0001.fits",
                                             "mods1b.20251230.0002.fits",
                                             "mods1r.20251229.0007.fits"]


def test_the_night_summary_counts_flagged_and_unfinished_frames_and_names_once():
    summary = NightSummary(requested=20, delivered=17, bad=1, warn=2,
                           failed=[("mods1b.20261207.0018.fits", "mods1b.20261207.0018.fits: "
                                    "truncated (IM3 1544 of 3088 rows)")],
                           latency_median=0.62, latency_max=1.5)
    assert summary_lines("20261207", summary) == [
        "night 20261207 summary: 20 requested, 17 delivered, 1 BAD, 2 WARN, 1 failed, "
        "2 not finished, latency median 0.62s max 1.50s",
        "night 20261207 failed: mods1b.20261207.0018.fits: truncated (IM3 1544 of 3088 rows)"]
