"""The supervisor's job lifecycle, in-process and in milliseconds.

A real journal (sqlite in a temporary folder) and real shared-memory slots (4 KiB
each), but no worker process: the supervisor is given a clock the test moves, a
``sleep`` that only moves it, and a launcher whose workers live in the test. A
worker "says" something by the test calling the message handler its launcher was
given (the worker pool's, as a child's messages go to), and "dies" by its process
ending, after which the reaper of ``dataman.service.worker_process`` tells the pool as it
does for a child. The few end-to-end tests that kill real
children stay in ``tests/reliability``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from dataman.core.config import load_config
from dataman.ipc.jobs import (
    DeliverJob,
    Hello,
    Job,
    JobDone,
    JobFailed,
    Message,
    StepStarted,
    Stop,
    decode,
)
from dataman.ipc.protocol_snapshot import FrameEntry
from dataman.ipc.slots import FrameBudget, SlotPool
from dataman.ipc.states import FrameState, ServiceState, Source, WorkerState
from dataman.service.journal import Journal
from dataman.service.supervisor import Supervisor
from dataman.service.worker_process import ExitHandler, MessageHandler, WorkerHandle, reap
from tests.conftest import write_config

START = 1767064366.0  # 2025-12-30 03:12:46 UTC, inside night 20251230
NAMES = [f"mods1b.20251230.{number:04d}.fits" for number in range(1, 6)]


class FakeProcess:
    """A worker's process that ends when the test (or a kill, or a Stop) says so."""

    def __init__(self, pid: int) -> None:
        self.pid, self.returncode, self.killed = pid, None, False
        self._ended = asyncio.Event()

    def end(self, code: int) -> None:
        if self.returncode is None:
            self.returncode = code
            self._ended.set()

    def kill(self) -> None:
        self.killed = True
        self.end(-9)

    async def wait(self) -> int:
        await self._ended.wait()
        assert self.returncode is not None
        return self.returncode


class FakePipe:
    """The supervisor's end of the pipe: keeps what it sends; a Stop ends the process."""

    def __init__(self, process: FakeProcess) -> None:
        self.process, self.sent, self.closed = process, list[Message](), False

    def write(self, data: bytes) -> None:
        for line in data.splitlines():
            message = decode(line)
            self.sent.append(message)
            if isinstance(message, Stop):
                self.process.end(0)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


@dataclass
class Bench:
    """A supervisor with a hand-moved clock and workers that live in the test."""

    data_dir: Path
    now: float = START
    slept: list[float] = field(default_factory=list)
    launched: list[WorkerHandle] = field(default_factory=list)
    finished: list[FrameEntry] = field(default_factory=list)
    sup: Supervisor = field(init=False)
    #: What each worker's messages go to: the handler the launcher was given.
    on_message: MessageHandler | None = None

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    async def launch(self, index: int, on_message: MessageHandler,
                     on_exit: ExitHandler) -> WorkerHandle:
        process = FakeProcess(4200 + len(self.launched))
        worker = WorkerHandle(index, process, FakePipe(process), pid=process.pid,
                              started=self.now)
        worker.reader_task = asyncio.create_task(self._reap_when_ended(worker, on_exit))
        self.launched.append(worker)
        self.on_message = on_message
        return worker

    @staticmethod
    async def _reap_when_ended(worker: WorkerHandle, on_exit: ExitHandler) -> None:
        """As a child's pipe closes when it ends: then it is reaped as a child is."""
        await worker.process.wait()
        await reap(worker, on_exit)

    # --- what the test does ----------------------------------------------------------

    async def start(self, *, hello: bool = True) -> None:
        await self.sup.start()
        if hello:
            for worker in list(self.sup.pool.workers):
                self.say(worker, Hello(worker.pid, 0.1))
        self.sup.begin()

    def say(self, worker: WorkerHandle, message: Message) -> None:
        assert self.on_message is not None
        self.on_message(worker, message)

    async def die(self, worker: WorkerHandle, code: int = -9) -> None:
        """The worker's process ends; returns once the supervisor has recorded it."""
        assert isinstance(worker.process, FakeProcess) and worker.reader_task is not None
        worker.process.end(code)
        await worker.reader_task

    def request(self, name: str, *, there: bool = True) -> None:
        path = self.data_dir / "mods1b" / name
        if there:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"raw")
        self.sup.request_frame(name, "mods1b", path, Source.DATAGRAM, "127.0.0.1:40000")

    def jobs(self, worker: WorkerHandle) -> list[Message]:
        assert isinstance(worker.writer, FakePipe)
        return [m for m in worker.writer.sent if isinstance(m, Job | DeliverJob)]

    def job_of(self, worker: WorkerHandle) -> Job:
        job = self.jobs(worker)[-1]
        assert isinstance(job, Job)
        return job

    def done(self, worker: WorkerHandle, *, delivered: bool = True,
             error: str | None = None) -> None:
        """The worker's last job ended: delivered, or not (``error``: why; None: it was
        told not to deliver)."""
        job = self.jobs(worker)[-1]
        name = Path(job.path).name if isinstance(job, Job) else job.raw_name
        self.say(worker, JobDone(job.frame_id, f"/proc/20251230/{name}", name,
                                 delivered=f"/newdata/{name}" if delivered else None,
                                 delivery_error=error, instrument="MODS1B"))

    async def recycle_begun(self) -> tuple[WorkerHandle, WorkerHandle]:
        """Start (recycleAfter 1), let worker 0 do one frame: (it, its successor launched)."""
        await self.start()
        worker = self.sup.pool.workers[0]
        self.request(NAMES[0])
        self.done(worker)
        await asyncio.sleep(0)  # the successor's launch runs in the background
        return worker, self.launched[-1]

    @staticmethod
    async def retired(worker: WorkerHandle) -> None:
        """The worker was told to stop: wait until it exited and was reaped."""
        assert worker.state is WorkerState.STOPPING
        assert worker.reader_task is not None
        await worker.reader_task

    def state(self, name: str) -> FrameState:
        record = self.sup.journal.is_known(name)
        assert record is not None
        return record.state

    def idle(self) -> list[int]:
        return sorted(w.index for w in self.sup.pool.workers if w.state is WorkerState.IDLE)


@pytest.fixture
def bench_of(tmp_path: Path) -> Iterator[Callable[..., Bench]]:
    """``bench_of(workers=..., service=...)``: config overrides, then a ready Bench."""
    closers: list[Callable[[], None]] = []

    def make(*, workers: dict[str, object] | None = None,
             service: dict[str, object] | None = None) -> Bench:
        workers = {"count": 1, "slots": 1, **(workers or {})}
        config = load_config(write_config(tmp_path, workers=workers,
                                          service={"scanInterval": 0, **(service or {})}))
        journal = Journal.open(config.paths.state_dir)
        slots = SlotPool.create(f"sup{uuid.uuid4().hex[:8]}", config.workers.slots,
                                FrameBudget(4096, 4096))
        closers.extend([journal.close, slots.close])
        bench = Bench(config.paths.data_dir)
        bench.sup = Supervisor(config, journal, slots, now=bench.clock, sleep=bench.sleep,
                               launch=bench.launch, frame_finished=bench.finished.append)
        return bench

    yield make
    for close in reversed(closers):
        close()


def run(scenario: Awaitable[None]) -> None:
    """Run one scenario; no child process may have been started by it."""
    before = {child.pid for child in psutil.Process().children()}
    asyncio.run(asyncio.wait_for(scenario, 10))
    started = [child.cmdline() for child in psutil.Process().children()
               if child.pid not in before]  # another test's child may still be exiting
    assert started == []


# --- the worker lifecycle -------------------------------------------------------------


def test_a_frame_goes_to_an_idle_worker_and_its_done_delivers_it(bench_of):
    bench = bench_of()

    async def scenario() -> None:
        await bench.start()
        worker = bench.sup.pool.workers[0]
        bench.request(NAMES[0])
        job = bench.job_of(worker)
        assert (Path(job.path).name, job.retry, job.deliver) == (NAMES[0], False, True)
        assert worker.state is WorkerState.BUSY and bench.sup.slots.free_count == 0
        bench.now += 0.5
        bench.done(worker)
        assert bench.state(NAMES[0]) is FrameState.DELIVERED
        assert worker.state is WorkerState.IDLE and bench.sup.slots.free_count == 1
        assert [(item.name, item.result, item.latency) for item in bench.finished] \
            == [(NAMES[0], "ok", 0.5)]

    run(scenario())


def test_frames_wait_for_a_free_worker_and_go_in_request_order(bench_of):
    bench = bench_of(workers={"count": 2, "slots": 2})

    async def scenario() -> None:
        await bench.start()
        first, second = bench.sup.pool.workers
        for name in NAMES[:4]:
            bench.request(name)
        assert [Path(bench.job_of(w).path).name for w in (first, second)] == NAMES[:2]
        assert len(bench.sup.queue) == 2
        bench.done(second)
        bench.done(first)
        assert [Path(bench.job_of(w).path).name for w in (second, first)] == NAMES[2:4]

    run(scenario())


@pytest.mark.parametrize(("deaths", "expected"), [
    (1, ("delivered", [False, True])),  # retried once (told it is a retry), then delivered
    (2, ("failed", [False, True])),  # a second death fails the frame
])
def test_a_frame_whose_worker_dies_is_tried_again_once(bench_of, deaths, expected):
    bench = bench_of()

    async def scenario() -> None:
        await bench.start()
        bench.request(NAMES[0])
        for _ in range(deaths):
            worker = bench.sup.pool.workers[0]
            await bench.die(worker)
            replacement = bench.sup.pool.workers[0]
            assert replacement is not worker and replacement.state is WorkerState.STARTING
            bench.say(replacement, Hello(replacement.pid))
        if deaths == 1:
            bench.done(bench.sup.pool.workers[0])
        retries = [job.retry for worker in bench.launched for job in bench.jobs(worker)
                   if isinstance(job, Job)]
        assert (str(bench.state(NAMES[0])), retries) == expected
        assert bench.sup.slots.free_count == 1  # the dead worker's slot came back
        if deaths == 2:  # the reason says how the worker ended, in which step, and twice
            record = bench.sup.journal.is_known(NAMES[0])
            assert record is not None and record.reason is not None
            assert record.reason.endswith("killed by SIGKILL during start (second attempt)")

    run(scenario())


def test_a_worker_that_never_says_hello_is_respawned_after_doubling_pauses(bench_of):
    bench = bench_of()

    async def scenario() -> None:
        await bench.start(hello=False)
        for _ in range(4):
            await bench.die(bench.sup.pool.workers[0], code=1)
        assert bench.slept == [1.0, 2.0, 4.0, 8.0]
        assert len(bench.launched) == 5 and bench.sup.pool.ready()
        bench.say(bench.sup.pool.workers[0], Hello(bench.launched[-1].pid))
        await bench.die(bench.sup.pool.workers[0], code=1)  # once it worked, no pause
        assert bench.slept == [1.0, 2.0, 4.0, 8.0]

    run(scenario())


def test_a_recycled_worker_works_on_until_its_successor_is_ready(bench_of):
    bench = bench_of(workers={"recycleAfter": 2})

    async def scenario() -> None:
        await bench.start()
        worker = bench.sup.pool.workers[0]
        for name in NAMES[:2]:
            bench.request(name)
            bench.done(worker)
        await asyncio.sleep(0)  # the successor's launch runs in the background
        assert len(bench.launched) == 2
        successor = bench.launched[-1]
        assert [w.state for w in bench.sup.pool.workers] == [WorkerState.IDLE, WorkerState.STARTING]
        bench.request(NAMES[2])  # the old worker still takes frames while it warms up
        assert bench.job_of(worker).path.endswith(NAMES[2])
        bench.say(successor, Hello(successor.pid, 0.1))
        assert worker.state is WorkerState.BUSY  # busy: it retires once its frame is done
        bench.request(NAMES[3])
        assert bench.jobs(successor) == []  # the one slot is the old worker's until it is done
        bench.done(worker)
        assert bench.job_of(successor).path.endswith(NAMES[3])
        await bench.retired(worker)
        assert isinstance(worker.writer, FakePipe) and isinstance(worker.writer.sent[-1], Stop)
        assert bench.sup.pool.workers == (successor,) and len(bench.launched) == 2
        assert bench.slept == []
        assert bench.state(NAMES[2]) is FrameState.DELIVERED

    run(scenario())


def test_an_idle_recycled_worker_retires_when_its_successor_says_hello(bench_of):
    bench = bench_of(workers={"recycleAfter": 1})

    async def scenario() -> None:
        worker, successor = await bench.recycle_begun()
        assert worker.state is WorkerState.IDLE and successor.state is WorkerState.STARTING
        bench.say(successor, Hello(successor.pid, 0.1))
        await bench.retired(worker)
        assert bench.sup.pool.workers == (successor,) and len(bench.launched) == 2

    run(scenario())


def test_a_recycled_worker_that_dies_before_the_handover_is_not_replaced_twice(bench_of):
    bench = bench_of(workers={"recycleAfter": 1})

    async def scenario() -> None:
        worker, successor = await bench.recycle_begun()
        await bench.die(worker)  # its successor is starting: that one is its replacement
        assert bench.sup.pool.workers == (successor,) and len(bench.launched) == 2
        bench.say(successor, Hello(successor.pid, 0.1))
        bench.request(NAMES[1])
        assert bench.job_of(successor).path.endswith(NAMES[1])

    run(scenario())


def test_a_successor_that_fails_to_start_is_tried_again_while_the_old_worker_works(bench_of):
    bench = bench_of(workers={"recycleAfter": 1})

    async def scenario() -> None:
        worker, failing = await bench.recycle_begun()
        await bench.die(failing, code=1)  # never said hello
        assert bench.slept == [1.0] and len(bench.launched) == 3  # backoff, then again
        successor = bench.launched[-1]
        assert bench.sup.pool.workers == (worker, successor)
        bench.request(NAMES[1])
        assert bench.job_of(worker).path.endswith(NAMES[1])  # no frame waits meanwhile
        bench.done(worker)
        bench.say(successor, Hello(successor.pid, 0.1))
        await bench.retired(worker)
        assert bench.sup.pool.workers == (successor,) and len(bench.launched) == 3

    run(scenario())


@pytest.mark.parametrize(("elapsed", "killed"), [(59.0, False), (61.0, True)])
def test_a_job_over_its_time_limit_is_killed_and_its_frame_retried(bench_of, elapsed, killed):
    bench = bench_of(workers={"jobTimeout": 60})

    async def scenario() -> None:
        await bench.start()
        worker = bench.sup.pool.workers[0]
        bench.request(NAMES[0])
        bench.now += elapsed
        bench.sup.tick()
        assert isinstance(worker.process, FakeProcess)
        assert worker.process.killed is killed
        if killed:
            assert worker.reader_task is not None
            await worker.reader_task
            record = bench.sup.journal.is_known(NAMES[0])
            assert record is not None and record.state is FrameState.QUEUED
            assert record.reason is not None and "time limit of 60 s exceeded" in record.reason

    run(scenario())


def test_paused_requests_are_journaled_and_queued_and_started_on_resume(bench_of):
    bench = bench_of()

    async def scenario() -> None:
        await bench.start()
        worker = bench.sup.pool.workers[0]
        bench.sup.pause()
        bench.request(NAMES[0])
        assert bench.sup.state is ServiceState.PAUSED and bench.jobs(worker) == []
        assert bench.state(NAMES[0]) is FrameState.QUEUED and len(bench.sup.queue) == 1
        bench.sup.resume()
        assert Path(bench.job_of(worker).path).name == NAMES[0]

    run(scenario())


def test_an_undelivered_frame_is_delivered_before_new_frames_start(bench_of):
    bench = bench_of()

    async def scenario() -> None:
        await bench.start()
        worker = bench.sup.pool.workers[0]
        bench.request(NAMES[0])
        bench.done(worker, delivered=False, error="repoDir not mounted")
        assert bench.state(NAMES[0]) is FrameState.PROCESSED
        bench.request(NAMES[1])  # the backlog's pause (1 s) has not passed: the frame runs
        assert Path(bench.job_of(worker).path).name == NAMES[1]
        assert bench.job_of(worker).deliver is False  # an older delivery waits: keep order
        bench.now += 1.0
        bench.done(worker, delivered=False)
        first = bench.jobs(worker)[-1]
        assert isinstance(first, DeliverJob) and first.raw_name == NAMES[0]
        bench.done(worker)
        second = bench.jobs(worker)[-1]
        assert isinstance(second, DeliverJob) and second.raw_name == NAMES[1]
        bench.done(worker)
        assert [bench.state(name) for name in NAMES[:2]] == [FrameState.DELIVERED] * 2

    run(scenario())


@pytest.mark.parametrize(("wait_for_write", "cause", "waited", "expected"), [
    (10.0, "missing", 0.0, "queued"),  # within waitForWrite: postponed
    (10.0, "incomplete", 5.0, "queued"),
    (10.0, "missing", 10.0, "failed"),  # waited long enough: failed with its reason
    (10.0, "bad", 0.0, "failed"),  # anything else fails at once
    (10.0, "internal", 0.0, "failed"),
])
def test_a_failed_job_is_postponed_or_failed_by_its_cause(bench_of, wait_for_write, cause,
                                                          waited, expected):
    bench = bench_of(service={"waitForWrite": wait_for_write})

    async def scenario() -> None:
        await bench.start()
        worker = bench.sup.pool.workers[0]
        bench.request(NAMES[0])
        job = bench.job_of(worker)
        if waited:  # a first look found it not ready; the next one is ``waited`` later
            bench.say(worker, JobFailed(job.frame_id, "not complete yet", cause))
            assert bench.state(NAMES[0]) is FrameState.QUEUED and worker.state is WorkerState.IDLE
            bench.now += waited
            bench.sup.tick()  # its pause is over: it goes to the worker again
            assert bench.job_of(worker) is not job and bench.job_of(worker).frame_id == job.frame_id
            job = bench.job_of(worker)
        bench.say(worker, JobFailed(job.frame_id, "not complete yet", cause))
        assert str(bench.state(NAMES[0])) == expected
        assert worker.state is WorkerState.IDLE

    run(scenario())


@pytest.mark.parametrize(("wait_for_write", "after", "expected"), [
    (0.0, 0.0, "failed"),  # no waiting allowed: fails at once
    (10.0, 0.0, "queued"),
    (10.0, 9.9, "queued"),
    (10.0, 10.0, "failed"),  # the look at 10 s finds it still missing
])
def test_a_raw_file_that_is_not_there_waits_without_a_worker(bench_of, wait_for_write,
                                                             after, expected):
    bench = bench_of(service={"waitForWrite": wait_for_write})

    async def scenario() -> None:
        await bench.start()
        bench.request(NAMES[0], there=False)
        bench.now += after
        bench.sup.tick()
        record = bench.sup.journal.is_known(NAMES[0])
        assert record is not None and str(record.state) == expected
        if expected == "failed":
            assert record.reason is not None and "not found" in record.reason
        assert bench.jobs(bench.sup.pool.workers[0]) == []  # no worker was ever involved

    run(scenario())


def test_stop_finishes_the_frame_in_progress_and_keeps_queued_frames(bench_of):
    bench = bench_of(workers={"count": 1, "slots": 1})

    async def scenario() -> None:
        await bench.start()
        for name in NAMES[:3]:
            bench.request(name)
        worker = bench.sup.pool.workers[0]
        stopping = asyncio.create_task(bench.sup.stop())
        await asyncio.sleep(0)  # the stop has begun, with the first frame in progress
        assert bench.sup.state is ServiceState.STOPPING and not stopping.done()
        bench.done(worker)  # the frame in progress ends during the stop
        await stopping
        assert bench.sup.pool.workers == ()
        assert all(isinstance(w.process, FakeProcess) and w.process.returncode == 0
                   for w in bench.launched)
        assert [bench.state(name) for name in NAMES[:3]] == [
            FrameState.DELIVERED, FrameState.QUEUED, FrameState.QUEUED]
        assert len(bench.jobs(worker)) == 1  # nothing new was dispatched while stopping

    run(scenario())


def test_a_stop_waits_on_the_clock_for_the_frame_in_progress_and_delivers_it(bench_of, caplog):
    bench = bench_of(service={"stopTimeout": 10})

    async def scenario() -> None:
        await bench.start()
        bench.request(NAMES[0])
        worker = bench.sup.pool.workers[0]
        stopping = asyncio.create_task(bench.sup.stop())
        while bench.now < START + 6.0:  # the stop's pauses move the clock: 6 s pass
            await asyncio.sleep(0)
        assert not stopping.done() and worker.state is WorkerState.BUSY
        bench.done(worker)  # the frame ends 6 s into the stop, within stopTimeout
        await stopping
        assert bench.state(NAMES[0]) is FrameState.DELIVERED
        assert bench.now < START + 10.0  # it did not wait for the timeout
        assert set(bench.slept) == {0.2}  # looked again every 0.2 s, on the injected clock
        assert [(item.name, item.result) for item in bench.finished] == [(NAMES[0], "ok")]
        assert not any("still in progress" in r.getMessage() for r in caplog.records)
        assert worker.state is WorkerState.EXITED and bench.sup.pool.workers == ()

    with caplog.at_level(logging.INFO, logger="dataman"):
        run(scenario())


def test_a_stop_gives_up_at_stop_timeout_on_a_frame_that_never_finishes(bench_of, caplog):
    bench = bench_of(service={"stopTimeout": 10})

    async def scenario() -> None:
        await bench.start()
        bench.request(NAMES[0])
        bench.request(NAMES[1])
        worker = bench.sup.pool.workers[0]
        bench.say(worker, StepStarted(bench.job_of(worker).frame_id, "otm"))
        await bench.sup.stop()  # the worker never reports: the stop waits 10 s, no more
        assert bench.now == START + 10.0
        assert isinstance(worker.writer, FakePipe) and isinstance(worker.writer.sent[-1], Stop)
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert warnings == [
            "stop: mods1b.20251230.0001.fits still in progress after 10 s; stopping anyway",
            "mods1b.20251230.0001.fits: not finished before the stop; kept for the next start"]
        record = bench.sup.journal.is_known(NAMES[0])
        assert record is not None and record.state is FrameState.QUEUED
        assert record.attempts == 0  # a frame lost to the stop is no failed attempt
        assert record.reason == ("service stopped: worker 0 (pid 4200) exited with status 0"
                                 " during otm")
        assert bench.state(NAMES[1]) is FrameState.QUEUED
        assert bench.sup.slots.free_count == 1 and bench.sup.pool.workers == ()

    with caplog.at_level(logging.INFO, logger="dataman"):
        run(scenario())
