"""The worker pool's transitions, in-process: launch and hello, the recycling handover,
respawn backoff, a worker lost with a job, draining and stop.

The pool runs without a supervisor: what it would tell one is recorded here. Its
workers, clock and launcher are those of ``test_supervisor.py`` (the clock moves
only when the pool sleeps; a worker ends when the test says so, or on a Stop).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dataman.ipc.jobs import Hello, LogLine, Message, Stop
from dataman.service.worker_pool import IllegalPoolTransition, PoolState, WorkerPool
from dataman.service.worker_process import (
    Assignment,
    IllegalWorkerTransition,
    WorkerHandle,
    WorkerState,
)
from tests.service.test_supervisor import START, Bench, FakePipe, run


@dataclass
class Heard:
    """What the pool told its supervisor, by worker pid."""

    ready: list[int] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)
    lost: list[tuple[int, str]] = field(default_factory=list)  # (pid, frame name)
    messages: list[Message] = field(default_factory=list)


def pool_of(tmp_path: Path, count: int = 1,
            recycle_after: int = 0) -> tuple[WorkerPool, Bench, Heard]:
    bench, heard = Bench(tmp_path), Heard()
    pool = WorkerPool(count, bench.launch, recycle_after=recycle_after, now=bench.clock,
                      sleep=bench.sleep,
                      job_message=lambda worker, message: heard.messages.append(message),
                      worker_ready=lambda worker: heard.ready.append(worker.pid),
                      worker_gone=lambda worker: heard.gone.append(worker.pid),
                      worker_lost=lambda worker, job: heard.lost.append((worker.pid, job.name)))
    return pool, bench, heard


def frame(name: str) -> Assignment:
    return Assignment(1, name, None, START)


def hello(bench: Bench, worker: WorkerHandle) -> None:
    bench.say(worker, Hello(worker.pid, 0.1))


def test_workers_start_and_the_pool_is_ready_once_each_said_hello(tmp_path):
    pool, bench, heard = pool_of(tmp_path, count=2)

    async def scenario() -> None:
        await pool.start()
        first, second = pool.workers
        assert [(w.index, w.pid, w.state) for w in pool.workers] == [
            (0, 4200, WorkerState.STARTING), (1, 4201, WorkerState.STARTING)]
        assert pool.state is PoolState.STARTING and not pool.ready() and pool.idle() == []
        hello(bench, first)
        assert first.state is WorkerState.IDLE and heard.ready == [4200]
        assert pool.state is PoolState.STARTING  # the other one is still warming up
        hello(bench, second)
        assert pool.state is PoolState.SERVING and pool.ready()
        assert pool.idle() == [first, second] and heard.ready == [4200, 4201]
        pool.assign(first, frame("a.fits"))
        assert pool.busy() == [first] and pool.idle() == [second]
        assert pool.finished(first) == frame("a.fits")
        assert first.state is WorkerState.IDLE and first.frames_done == 1
        bench.say(first, LogLine(20, "step read 0.1 s"))  # all but the hello: the supervisor's
        assert heard.messages == [LogLine(20, "step read 0.1 s")]

    run(scenario())


def test_a_recycled_worker_works_on_while_its_successor_warms_and_retires_when_idle(tmp_path):
    pool, bench, heard = pool_of(tmp_path, recycle_after=2)

    async def scenario() -> None:
        await pool.start()
        worker = pool.workers[0]
        hello(bench, worker)
        for name in ("a.fits", "b.fits"):
            pool.assign(worker, frame(name))
            pool.finished(worker)
        await asyncio.sleep(0)  # the successor is launched in the background
        assert len(bench.launched) == 2
        successor = bench.launched[-1]
        assert [w.state for w in pool.workers] == [WorkerState.IDLE, WorkerState.STARTING]
        pool.assign(worker, frame("c.fits"))  # the old one still takes frames
        hello(bench, successor)
        assert (worker.state, successor.state) == (WorkerState.BUSY, WorkerState.IDLE)
        assert pool.idle() == [successor]
        pool.finished(worker)  # idle now, with its successor ready: it retires
        await bench.retired(worker)
        assert isinstance(worker.writer, FakePipe) and worker.writer.sent == [Stop()]
        assert pool.workers == (successor,) and worker.frames_done == 3
        assert heard.gone == [4200] and heard.lost == [] and bench.slept == []
        assert len(bench.launched) == 2  # the successor was its replacement

    run(scenario())


def test_respawn_pauses_double_up_to_30_s_and_a_hello_resets_them(tmp_path):
    pool, bench, heard = pool_of(tmp_path)

    async def scenario() -> None:
        await pool.start()
        await bench.die(pool.workers[0], code=1)  # never said hello
        assert pool.state is PoolState.SERVING  # waiting for its hello would not help
        for _ in range(6):
            await bench.die(pool.workers[0], code=1)
        assert bench.slept == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
        assert bench.now == START + 91.0 and len(bench.launched) == 8
        hello(bench, pool.workers[0])
        await bench.die(pool.workers[0])  # it had worked: replaced at once
        assert len(bench.slept) == 7 and len(bench.launched) == 9
        await bench.die(pool.workers[0], code=1)  # a new run of failures starts at 1 s
        assert bench.slept[7:] == [1.0] and len(bench.launched) == 10
        assert heard.lost == [] and len(heard.gone) == 9

    run(scenario())


def test_a_worker_that_dies_with_a_job_in_hand_is_reported_and_replaced_at_once(tmp_path):
    pool, bench, heard = pool_of(tmp_path)

    async def scenario() -> None:
        await pool.start()
        worker = pool.workers[0]
        hello(bench, worker)
        pool.assign(worker, frame("a.fits"))
        await bench.die(worker)
        assert worker.state is WorkerState.EXITED and worker.returncode == -9
        assert heard.lost == [(4200, "a.fits")] and heard.gone == [4200]
        assert [(w.pid, w.state) for w in pool.workers] == [(4201, WorkerState.STARTING)]
        assert bench.slept == []

    run(scenario())


def test_a_draining_pool_neither_recycles_nor_replaces_and_stops_every_worker(tmp_path):
    pool, bench, heard = pool_of(tmp_path, count=2, recycle_after=1)

    async def scenario() -> None:
        await pool.start()
        first, second = pool.workers
        hello(bench, first)
        hello(bench, second)
        pool.assign(first, frame("a.fits"))
        pool.assign(second, frame("b.fits"))
        pool.drain()
        pool.finished(first)  # its frame limit is reached, but no successor now
        await bench.die(second)
        assert heard.lost == [(4201, "b.fits")]
        assert pool.workers == (first,) and len(bench.launched) == 2
        await pool.stop(grace=2.0)
        assert pool.state is PoolState.STOPPED and pool.workers == ()
        assert first.state is WorkerState.EXITED and first.returncode == 0  # told to stop
        assert len(bench.launched) == 2 and bench.slept == []

    run(scenario())


def test_a_successor_whose_launch_ends_after_the_stop_is_stopped_too(tmp_path):
    """A recycle began, and the stop came while the successor's process was starting:
    the stop waits for that launch, the successor is told to stop at once, and nothing
    is left running."""
    pool, bench, heard = pool_of(tmp_path, count=1, recycle_after=1)
    gate = asyncio.Event()

    async def slow_launch(index, on_message, on_exit):  # the process takes its time
        await gate.wait()
        return await bench.launch(index, on_message, on_exit)

    async def scenario() -> None:
        await pool.start()
        (first,) = pool.workers
        hello(bench, first)
        pool.launch = slow_launch
        pool.assign(first, frame("a.fits"))
        pool.finished(first)  # its frame limit: the successor's launch begins
        await asyncio.sleep(0)
        stopping = asyncio.create_task(pool.stop(grace=2.0))
        for _ in range(5):
            await asyncio.sleep(0)
        assert first.state is WorkerState.EXITED and len(bench.launched) == 1
        assert not stopping.done()  # it waits for the launch in flight
        gate.set()  # the successor's process starts only now
        await stopping
        assert pool.state is PoolState.STOPPED
        (successor,) = bench.launched[1:]
        assert [type(message) for message in successor.writer.sent] == [Stop]
        assert successor.reader_task is not None
        await successor.reader_task
        assert successor.state is WorkerState.EXITED and successor.returncode == 0
        assert pool.workers == () and heard.ready == [first.pid]

    run(scenario())


def test_transitions_that_the_machines_do_not_have_raise(tmp_path):
    pool, _, _ = pool_of(tmp_path)

    async def scenario() -> None:
        await pool.start()
        worker = pool.workers[0]
        with pytest.raises(IllegalWorkerTransition, match="cannot ASSIGN while starting"):
            pool.assign(worker, frame("a.fits"))  # it has not said hello
        assert worker.state is WorkerState.STARTING and worker.assignment is None
        pool.drain()
        with pytest.raises(IllegalPoolTransition, match="cannot DRAIN while draining"):
            pool.drain()
        await pool.stop(grace=2.0)
        with pytest.raises(IllegalPoolTransition, match="cannot DRAIN while stopped"):
            pool.drain()

    run(scenario())
