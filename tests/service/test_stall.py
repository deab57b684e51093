"""A full or failing procDir/stateDir stalls processing: the frame keeps its place, waits
with a backoff, and everything goes on once a frame is written again."""

from __future__ import annotations

import errno
from pathlib import Path

from dataman.core.diskfaults import passing_disk_error
from dataman.core.errors import DeliveryFailed
from dataman.ipc.jobs import JobFailed
from dataman.ipc.states import FrameState
from dataman.service.journal import Journal
from dataman.service.stall import ProcessingStall
from tests.service.test_outcomes import NOW, Recorder
from tests.service.test_supervisor import NAMES, Bench, run
from tests.service.test_supervisor import bench_of as bench_of  # the fixture, used by name

FULL = "/proc/20251230: No space left on device"


def test_a_stall_lets_one_frame_try_after_a_pause_that_doubles_up_to_the_cap():
    stall = ProcessingStall(max_delay=4.0)
    assert stall.allows_start(NOW) and stall.problem is None
    assert stall.stalled(1, FULL, NOW) == 1.0
    assert stall.problem == "processing stalled: No space left on device in /proc/20251230"
    assert not stall.allows_start(NOW + 0.5)
    assert stall.allows_start(NOW + 1.0)
    stall.started(1)  # the probe: no second frame meanwhile
    assert not stall.allows_start(NOW + 1.0)
    pauses = [stall.stalled(1, FULL, NOW + 1.0)]
    for moment in (NOW + 3.0, NOW + 7.0, NOW + 11.0):
        stall.started(1)
        pauses.append(stall.stalled(1, FULL, moment))
    assert pauses == [2.0, 4.0, 4.0, 4.0]


def test_frames_that_were_running_when_the_disk_filled_do_not_lengthen_the_pause():
    stall = ProcessingStall(max_delay=60.0)
    assert [stall.stalled(frame, FULL, NOW) for frame in (1, 2, 3)] == [1.0, 1.0, 1.0]


def test_a_frame_written_ends_the_stall_and_resets_the_pause():
    stall = ProcessingStall(max_delay=60.0)
    stall.stalled(1, FULL, NOW)
    stall.started(1)
    stall.ended(1, NOW + 2, written=False)  # failed for its own reasons: the disk is unknown
    assert stall.problem is not None and stall.allows_start(NOW + 2)
    stall.started(2)
    stall.ended(2, NOW + 3, written=True)
    assert stall.problem is None and stall.allows_start(NOW + 3)
    assert stall.stalled(3, FULL, NOW + 4) == 1.0


def test_only_passing_disk_conditions_stall_a_frame():
    full = OSError(errno.ENOSPC, "No space left on device")
    try:
        raise DeliveryFailed("/proc/20251230: No space left on device") from full
    except DeliveryFailed as error:
        assert passing_disk_error(error) is full
    for code in (errno.EDQUOT, errno.ESTALE, errno.EIO):
        assert passing_disk_error(OSError(code, "x")) is not None
    assert passing_disk_error(OSError(errno.ENOTDIR, "Not a directory")) is None
    assert passing_disk_error(DeliveryFailed("wrote 10 bytes of 20")) is None


def test_a_stalled_frame_keeps_its_place_in_the_queue_without_an_attempt(tmp_path: Path):
    with Journal.open(tmp_path) as journal:
        recorder = Recorder(journal)
        names = [f"mods1b.20251230.{number:04d}.fits" for number in (1, 2)]
        first = recorder.start(names[0], NOW)
        journal.request(names[1], f"/data/mods1b/{names[1]}", "mods1b", "datagram", NOW)
        reason = f"{names[0]}: cannot write: {FULL}"
        recorder.outcomes.failed(first, JobFailed(first.frame_id, reason, "stalled"), NOW + 1)
        record = journal.get(first.frame_id)
        assert (record.state, record.attempts) == (FrameState.QUEUED, 0)
        assert recorder.outcomes.stall.problem == ("processing stalled: No space left on "
                                                   "device in /proc/20251230")
        queued = recorder.queue.ordered()
        assert [frame.name for frame in queued] == [names[0]]
        assert queued[0].reason == f"processing stalled: {FULL}"
        assert recorder.published == []  # not a failure: nothing in the recent list
        again = recorder.start(names[0], NOW + 2)
        recorder.outcomes.done(again, recorder.done(names[0], NOW + 3), NOW + 3)
        assert recorder.outcomes.stall.problem is None
        assert journal.get(first.frame_id).state is FrameState.DELIVERED


def test_the_supervisor_holds_starts_while_stalled_and_probes_with_one_frame(bench_of):
    bench: Bench = bench_of(workers={"count": 2, "slots": 2}, service={"deliveryRetryMax": 4})

    async def scenario() -> None:
        await bench.start()
        first, second = bench.sup.pool.workers
        for name in NAMES[:3]:
            bench.request(name)
        job = bench.job_of(first)
        reason = f"{NAMES[0]}: cannot write: {FULL}"
        bench.say(first, JobFailed(job.frame_id, reason, "stalled"))
        bench.say(second, JobFailed(bench.job_of(second).frame_id, reason, "stalled"))
        assert bench.idle() == [0, 1] and len(bench.sup.queue) == 3  # both back, in place
        bench.sup.tick()
        assert [len(bench.jobs(w)) for w in (first, second)] == [1, 1]  # the pause holds
        bench.now += 1.0
        bench.sup.tick()  # the pause is over: the first frame tries, alone
        assert [len(bench.jobs(w)) for w in (first, second)] == [2, 1]
        assert bench.job_of(first).frame_id == job.frame_id
        bench.done(first)  # written: the stall is over, every frame goes
        assert bench.sup.stall.problem is None
        assert bench.state(NAMES[0]) is FrameState.DELIVERED
        assert [len(bench.jobs(w)) for w in (first, second)] == [3, 2]

    run(scenario())
