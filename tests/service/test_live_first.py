"""Live frames first: the next job is the live one, and catch-up never takes the last worker.

These are the properties behind a live frame's latency during a catch-up that do
not depend on the machine's speed (that latency itself is measured by
``benchmarks/bench_service.py``). The supervisor runs in-process with the
workers, clock and journal of ``test_supervisor.py``; a catch-up frame is a scan
find or a frame queued again at a start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dataman.ipc.jobs import Job, decode, encode
from dataman.ipc.states import Source, WorkerState
from dataman.service.live_reserve import catch_up_may_start, reserve
from dataman.service.queue import FrameQueue, QueuedFrame
from dataman.service.worker_process import WorkerHandle
from tests.service import test_supervisor as harness
from tests.service.test_supervisor import START, Bench, run

BACKLOG = [f"mods1b.20251230.{number:04d}.fits" for number in range(1, 11)]
LIVE = [f"mods1r.20251230.{number:04d}.fits" for number in range(1, 4)]


@pytest.fixture
def bench_of(tmp_path: Path) -> Iterator[Callable[..., Bench]]:
    """``test_supervisor.py``'s benches: ``bench_of(workers=...)``."""
    yield from harness.bench_of.__wrapped__(tmp_path)


def scan_finds(bench: Bench, names: list[str]) -> None:
    """The raw-folder scan found ``names`` (files there, never requested)."""
    for name in names:
        path = bench.data_dir / "mods1b" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"raw")
        bench.sup.request_frame(name, "mods1b", path, Source.SCAN, "scan")


def live(bench: Bench, name: str) -> None:
    path = bench.data_dir / "mods1r" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"raw")
    bench.sup.request_frame(name, "mods1r", path, Source.DATAGRAM, "127.0.0.1:40000")


def running(bench: Bench) -> dict[str, bool]:
    """Each frame in a worker now → whether it was sent as catch-up."""
    jobs = {}
    for worker in bench.sup.pool.workers:
        if worker.state is WorkerState.BUSY:
            job = bench.job_of(worker)
            jobs[Path(job.path).name] = job.catch_up
    return jobs


def busy_with(bench: Bench, name: str) -> WorkerHandle:
    return next(w for w in bench.sup.pool.workers if w.state is WorkerState.BUSY
                and Path(bench.job_of(w).path).name == name)


def test_with_one_worker_the_live_request_is_the_next_job_after_the_catch_up_frame(bench_of):
    bench = bench_of(workers={"count": 1, "slots": 1, "liveReserve": 1})

    async def scenario() -> None:
        await bench.start()
        worker = bench.sup.pool.workers[0]
        scan_finds(bench, BACKLOG)
        assert running(bench) == {BACKLOG[0]: True}  # one worker: the backlog still moves
        live(bench, LIVE[0])
        assert running(bench) == {BACKLOG[0]: True}  # at most that one frame ahead of it
        bench.done(worker)
        assert running(bench) == {LIVE[0]: False}
        bench.done(worker)
        assert running(bench) == {BACKLOG[1]: True}

    run(scenario())


def test_catch_up_frames_never_take_the_last_free_worker(bench_of):
    bench = bench_of(workers={"count": 3, "slots": 3, "liveReserve": 1})

    async def scenario() -> None:
        await bench.start()
        scan_finds(bench, BACKLOG)
        assert running(bench) == {BACKLOG[0]: True, BACKLOG[1]: True}
        assert len(bench.idle()) == 1
        live(bench, LIVE[0])  # starts at once, on the worker kept free
        assert running(bench) == {BACKLOG[0]: True, BACKLOG[1]: True, LIVE[0]: False}
        bench.done(busy_with(bench, BACKLOG[0]))
        # The live frame runs: the worker that is free now is the last one, kept for the
        # next live frame (the other channel's), not given to the backlog.
        assert running(bench) == {BACKLOG[1]: True, LIVE[0]: False}
        live(bench, LIVE[1])
        assert running(bench) == {BACKLOG[1]: True, LIVE[0]: False, LIVE[1]: False}
        bench.done(busy_with(bench, LIVE[0]))
        bench.done(busy_with(bench, LIVE[1]))
        assert running(bench) == {BACKLOG[1]: True, BACKLOG[2]: True}
        assert len(bench.idle()) == 1 and len(bench.sup.queue) == len(BACKLOG) - 3

    run(scenario())


def test_a_live_request_takes_the_next_free_worker_before_the_queued_backlog(bench_of):
    bench = bench_of(workers={"count": 2, "slots": 2, "liveReserve": 1})

    async def scenario() -> None:
        await bench.start()
        scan_finds(bench, BACKLOG)
        live(bench, LIVE[0])
        live(bench, LIVE[1])  # the first took the free worker; this one waits
        assert running(bench) == {BACKLOG[0]: True, LIVE[0]: False}
        bench.done(busy_with(bench, BACKLOG[0]))
        assert running(bench) == {LIVE[1]: False, LIVE[0]: False}
        bench.done(busy_with(bench, LIVE[0]))
        assert running(bench) == {LIVE[1]: False}  # the last free worker stays free
        bench.done(busy_with(bench, LIVE[1]))
        assert running(bench) == {BACKLOG[1]: True}

    run(scenario())


def test_live_reserve_0_gives_catch_up_every_worker(bench_of):
    bench = bench_of(workers={"count": 2, "slots": 2, "liveReserve": 0})

    async def scenario() -> None:
        await bench.start()
        scan_finds(bench, BACKLOG)
        assert running(bench) == {BACKLOG[0]: True, BACKLOG[1]: True}

    run(scenario())


def test_frames_queued_again_at_a_start_are_catch_up_until_a_live_request_names_them(
        bench_of):
    bench = bench_of(workers={"count": 2, "slots": 2, "liveReserve": 1})

    async def scenario() -> None:
        folder = bench.data_dir / "mods1r"
        folder.mkdir(parents=True)
        for name in LIVE:  # requested by datagram before the service stopped
            (folder / name).write_bytes(b"raw")
            bench.sup.journal.request(name, folder / name, "mods1r", Source.DATAGRAM, START)
        await bench.start()
        assert running(bench) == {LIVE[0]: True}
        live(bench, LIVE[2])  # asked again: live now, ahead of the other one left
        assert running(bench) == {LIVE[0]: True, LIVE[2]: False}
        bench.done(busy_with(bench, LIVE[0]))
        bench.done(busy_with(bench, LIVE[2]))
        assert running(bench) == {LIVE[1]: True}

    run(scenario())


def test_a_frame_queued_again_at_a_start_stays_catch_up_when_queued_anew():
    queue = FrameQueue()
    first = QueuedFrame(1, BACKLOG[0], "mods1b", Path(BACKLOG[0]), Source.DATAGRAM, 0.0,
                        requeued=True)
    queue.add(first)
    queue.add(QueuedFrame(2, LIVE[0], "mods1r", Path(LIVE[0]), Source.DATAGRAM, 1.0))
    assert [frame.id for frame in queue.ordered()] == [2, 1]
    queue.remove(1)  # started, its worker died: queued anew from the journal's record
    queue.add(QueuedFrame(1, BACKLOG[0], "mods1b", Path(BACKLOG[0]), Source.DATAGRAM, 0.0))
    assert [(frame.id, frame.catch_up) for frame in queue.ordered()] == [(2, False), (1, True)]
    queue.promote(1, Source.SCAN)  # a scan find does not make it live
    assert queue.ordered()[1].catch_up
    queue.promote(1, Source.DATAGRAM)
    assert [(frame.id, frame.catch_up) for frame in queue.ordered()] == [(1, False), (2, False)]


@pytest.mark.parametrize(("configured", "serving", "expected"),
                         [(1, 1, 0), (1, 2, 1), (1, 4, 1), (2, 2, 1), (3, 4, 3), (0, 3, 0)])
def test_the_reserve_never_keeps_every_worker_from_the_backlog(configured, serving, expected):
    assert reserve(configured, serving) == expected


def test_a_recycled_worker_and_its_successor_count_as_one_worker():
    def worker(index: int, state: WorkerState) -> WorkerHandle:
        return WorkerHandle(index, None, None, state)  # type: ignore[arg-type]

    # Two workers, index 0 handing over: both idle, yet one worker is the last free one.
    handover = [worker(0, WorkerState.IDLE), worker(0, WorkerState.IDLE),
                worker(1, WorkerState.BUSY)]
    assert catch_up_may_start(handover, 1)
    assert not catch_up_may_start([worker(0, WorkerState.IDLE), worker(1, WorkerState.BUSY)],
                                  1)
    # A worker being replaced (its successor starting) does not stall the backlog.
    assert catch_up_may_start([worker(0, WorkerState.STARTING), worker(1, WorkerState.IDLE)],
                              1)


def test_a_job_says_whether_it_is_catch_up():
    job = Job(1, "/data/mods1b/" + BACKLOG[0], {}, catch_up=True)
    assert decode(encode(job)) == job and b'"catch_up":true' in encode(job)
    assert decode(b'{"v":1,"type":"job","frame_id":1,"path":"x","slot":{}}\n') \
        == Job(1, "x", {}, catch_up=False)
