"""The work queue under floods: fair order, O(log n) operations, raw files that never come."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dataman.ipc.states import Source
from dataman.service.journal import Journal
from dataman.service.queue import FrameQueue, QueuedFrame
from dataman.service.repeats import RepeatedRequests
from dataman.service.waiting import RawFileWait


def queued(frame_id: int, source: Source = Source.DATAGRAM, folder: Path = Path("/nowhere"),
           **fields) -> QueuedFrame:
    name = f"mods1b.20251230.{frame_id:04d}.fits"
    return QueuedFrame(frame_id, name, "mods1b", folder / name, source, 0.0, **fields)


def test_live_requests_run_before_scan_finds_then_in_request_order():
    queue = FrameQueue()
    for frame in (queued(1, Source.SCAN), queued(2, Source.SCAN), queued(3, Source.DATAGRAM),
                  queued(4, Source.CONSOLE)):
        queue.add(frame)
    assert [f.id for f in queue.ordered()] == [3, 4, 1, 2]
    assert queue.next_ready(now=0.0).id == 3


def test_a_postponed_frame_waits_and_does_not_block_the_next_one():
    queue = FrameQueue()
    queue.add(queued(1, not_before=10.0))
    queue.add(queued(2))
    assert queue.next_ready(now=5.0).id == 2
    queue.remove(2)
    assert queue.next_ready(now=5.0) is None
    assert queue.next_ready(now=9.99) is None
    assert queue.next_ready(now=10.0).id == 1


def test_a_frame_that_waited_for_its_file_goes_behind_frames_not_tried_yet():
    queue = FrameQueue()
    queue.add(queued(1, waiting_since=0.0, not_before=1.0))
    queue.add(queued(2))
    queue.add(queued(3, Source.SCAN))
    assert [f.id for f in queue.ordered()] == [2, 1, 3]
    assert queue.next_ready(now=2.0).id == 2
    queue.remove(2)
    assert queue.next_ready(now=2.0).id == 1


def test_a_scan_find_promoted_to_live_moves_ahead_of_other_scan_finds():
    queue = FrameQueue()
    for frame_id in (1, 2, 3):
        queue.add(queued(frame_id, Source.SCAN))
    queue.promote(3, Source.DATAGRAM)
    assert queue.next_ready(now=0.0).id == 3
    assert [f.id for f in queue.ordered(limit=2)] == [3, 1]


def test_ten_thousand_queued_frames_each_pick_is_ready():
    """How fast the picks are is benchmarks/bench_queue.py's measurement."""
    queue = FrameQueue()
    for frame_id in range(1, 10_001):
        queue.add(queued(frame_id, not_before=float(frame_id % 7)))
    for step in range(1000):
        now = step / 100  # the clock moves on, as the supervisor's does
        frame = queue.next_ready(now=now)
        assert frame is not None and frame.not_before <= now
        queue.remove(frame.id)
        queue.add(queued(frame.id, waiting_since=0.0, not_before=10.0 + step))
    assert len(queue) == 10_000
    assert len(queue.ordered(limit=200)) == 200


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal.open(tmp_path) as opened:
        yield opened


def test_a_missing_raw_file_waits_without_a_worker_then_expires(tmp_path, journal):
    queue = FrameQueue()
    waiting = RawFileWait(journal, queue, limit=2.0)
    frame = queued(1, folder=tmp_path)
    assert not waiting.there(frame, now=100.0)
    assert frame.not_before == 100.25 and frame.waiting_since == 100.0
    assert queue.next_ready(now=100.1) is None
    assert not waiting.there(queue.next_ready(now=101.0), now=101.0)
    assert not waiting.there(queue.next_ready(now=103.0), now=103.0)
    assert len(queue) == 0
    assert waiting.take_expired() == [(1, f"{frame.name}: not found ({frame.path}) "
                                          "(waited 3 s)")]
    assert waiting.take_expired() == []


def test_a_raw_file_that_appears_is_there(tmp_path, journal):
    waiting = RawFileWait(journal, FrameQueue(), limit=2.0)
    frame = queued(1, folder=tmp_path)
    frame.path.write_bytes(b"SIMPLE")
    assert waiting.there(frame, now=0.0)


def test_repeated_requests_are_logged_once_a_minute_with_the_count_of_the_others():
    repeats = RepeatedRequests(period=60.0)
    name = "mods1b.20251230.0001.fits"
    assert [repeats.should_log(name, now) for now in (0.0, 1.0, 2.0, 61.0)] == [
        True, False, False, True]
    assert repeats.suppressed(name) == 2
