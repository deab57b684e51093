"""The worker pool: which worker processes run, and each one's life from launch to exit.

The supervisor runs jobs; this class runs the processes that do them, so that
neither story is told in the middle of the other. It launches ``count``
workers, marks each ready when it says hello, recycles a worker after
``recycle_after`` frames (its successor warms up while it goes on taking
frames; it retires once the successor is ready and it is idle, so a recycle
never leaves the service a worker short), replaces a worker that exits (after
a pause doubling up to :data:`RESPAWN_DELAY_MAX` while workers die before
their hello, so a worker that cannot start does not spin) and stops them all.

Every change of a worker's state goes through a named transition of
:class:`~dataman.service.worker_process.WorkerTransition`; the pool as a whole has its
own machine, as process-control tools (Supervisor, circus) give a process
group one::

    STARTING ──WARM──▶ SERVING ──DRAIN──▶ DRAINING ──CLOSE──▶ STOPPED
        │     (every worker said hello,    ▲ (a stop: nothing is launched,
        │      or one failed to start)     │  recycled or replaced any more)
        └────────────DRAIN─────────────────┘

The pool knows nothing of frames. It hands the supervisor the workers' job
messages, and tells it when a worker became ready, when one exited, and first,
when the one that exited had a job in hand (the supervisor decides what
becomes of the frame). The supervisor in turn tells the pool when it gives a
worker a job (:meth:`WorkerPool.assign`) and when the job ended
(:meth:`WorkerPool.finished`, where a recycle begins). The clock and the
launcher are injected, so ``tests/service/test_worker_pool.py`` drives every
transition in-process with workers that live in the test.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from enum import Enum, StrEnum
from typing import Any

from dataman.core.errors import DataManError
from dataman.ipc.jobs import Hello, JobKind, Message
from dataman.service.worker_process import (
    Assignment,
    MessageHandler,
    WorkerHandle,
    WorkerLauncher,
    WorkerState,
    WorkerTransition,
    describe_exit,
    stop_worker,
)
from dataman.service.worker_process import kill as kill_process

log = logging.getLogger("dataman")
#: Longest pause (s) before launching a worker again while workers die before their hello;
#: the first pause is 1 s, then doubles. A hello ends the backoff.
RESPAWN_DELAY_MAX = 30.0
#: How long (s) a recycled worker has to exit once told to stop, before it is killed.
RETIRE_GRACE = 10.0


class PoolState(StrEnum):
    STARTING = "starting"  # the first workers are launched, not every one has said hello
    SERVING = "serving"
    DRAINING = "draining"  # stopping: no worker is launched, recycled or replaced
    STOPPED = "stopped"


class PoolTransition(Enum):
    WARM = ({PoolState.STARTING}, PoolState.SERVING)
    DRAIN = ({PoolState.STARTING, PoolState.SERVING}, PoolState.DRAINING)
    CLOSE = ({PoolState.DRAINING}, PoolState.STOPPED)

    def __init__(self, sources: set[PoolState], target: PoolState) -> None:
        self.sources = frozenset(sources)
        self.target = target


class IllegalPoolTransition(DataManError):
    """The pool was asked to change state along an edge its machine does not have."""


def _ignore(*args: object) -> None:
    """The default callback: nobody listens."""


class WorkerPool:
    """``count`` worker processes of indexes 0 … count-1, each replaced when it exits.

    Callbacks: ``job_message(worker, message)`` gets every message but the hello;
    ``worker_ready(worker)`` is told of each hello, ``worker_lost(worker, job)`` of a
    worker that exited with ``job`` in hand, ``worker_gone(worker)`` of every exit
    (after ``worker_lost``, before its replacement is launched); ``changed()`` whenever
    a worker came, went or changed state.
    """

    def __init__(self, count: int, launch: WorkerLauncher, *, recycle_after: int = 0,
                 now: Callable[[], float], sleep: Callable[[float], Awaitable[None]],
                 job_message: MessageHandler = _ignore,
                 worker_ready: Callable[[WorkerHandle], None] = _ignore,
                 worker_lost: Callable[[WorkerHandle, Assignment], None] = _ignore,
                 worker_gone: Callable[[WorkerHandle], None] = _ignore,
                 changed: Callable[[], None] = _ignore) -> None:
        self.count, self.recycle_after = count, recycle_after
        self.launch, self.now, self.sleep = launch, now, sleep
        self.job_message, self.worker_ready = job_message, worker_ready
        self.worker_lost, self.worker_gone, self.changed = worker_lost, worker_gone, changed
        self.state = PoolState.STARTING
        self.respawn_delay = 0.0  # the last pause before a launch; 0 once a worker said hello
        self._workers: list[WorkerHandle] = []
        self._launching: set[int] = set()  # worker indexes being launched
        self._background: set[asyncio.Future[None]] = set()

    # --- what the supervisor reads ---------------------------------------------------------

    @property
    def workers(self) -> tuple[WorkerHandle, ...]:
        """Every worker process there is, in launch order (a recycled worker before its
        successor)."""
        return tuple(self._workers)

    def idle(self) -> list[WorkerHandle]:
        """The workers ready for a job now."""
        return [worker for worker in self._workers if worker.state is WorkerState.IDLE]

    def busy(self) -> list[WorkerHandle]:
        """The workers at work on a job (one retired by a stop with a job in hand is
        STOPPING, not busy: it is never given another)."""
        return [worker for worker in self._workers if worker.state is WorkerState.BUSY]

    def ready(self) -> bool:
        """The start is over: every worker has said hello (slots mapped, warmed up), or one
        failed to start (waiting longer would not help: it is retried with a backoff)."""
        return self.state is not PoolState.STARTING

    # --- the pool's own transitions --------------------------------------------------------

    def _move(self, transition: PoolTransition) -> None:
        if self.state not in transition.sources:
            raise IllegalPoolTransition(f"worker pool: cannot {transition.name} while "
                                        f"{self.state}")
        self.state = transition.target

    def _open(self) -> bool:
        """Whether workers are still launched, recycled and replaced (no stop yet)."""
        return self.state in (PoolState.STARTING, PoolState.SERVING)

    def _warm_if_all_ready(self) -> None:
        if (self.state is PoolState.STARTING and not self._launching
                and all(worker.state is not WorkerState.STARTING for worker in self._workers)):
            self._move(PoolTransition.WARM)

    async def start(self) -> None:
        """Launch every worker; the pool is ready once each has said hello."""
        for index in range(self.count):
            await self.spawn(index)
        self._warm_if_all_ready()

    def drain(self) -> None:
        """A stop begins: from now on no worker is launched, recycled or replaced."""
        self._move(PoolTransition.DRAIN)

    async def stop(self, grace: float) -> None:
        """Retire and stop every worker, then let their reapers record what became of each
        job (``worker_lost``)."""
        if self._open():
            self._move(PoolTransition.DRAIN)
        for worker in self._workers:
            if worker.state in WorkerTransition.RETIRE.sources:
                worker.move(WorkerTransition.RETIRE)
        workers = list(self._workers)
        await asyncio.gather(*(stop_worker(worker, grace) for worker in workers))
        if self._background:  # launches in flight (each stops its worker: spawn), retirements
            await asyncio.wait(list(self._background), timeout=RETIRE_GRACE + 5.0)
        reapers = [worker.reader_task for worker in self._workers + workers
                   if worker.reader_task is not None]
        if reapers:
            await asyncio.wait(reapers, timeout=5.0)
        self._move(PoolTransition.CLOSE)

    # --- a worker's life -------------------------------------------------------------------

    async def spawn(self, index: int) -> None:
        """Launch worker ``index``; it is STARTING until its hello."""
        self._launching.add(index)
        try:
            worker = await self.launch(index, self.on_message, self.on_exit)
        finally:
            self._launching.discard(index)
        self._workers.append(worker)
        self.changed()
        if not self._open():  # a stop began while it was launched: it never serves
            worker.move(WorkerTransition.RETIRE)
            await stop_worker(worker, grace=RETIRE_GRACE)

    def on_message(self, worker: WorkerHandle, message: Message) -> None:
        """A message from a worker: the hello is the pool's, the rest the supervisor's."""
        if isinstance(message, Hello):
            self.hello(worker, message)
        else:
            self.job_message(worker, message)

    def hello(self, worker: WorkerHandle, message: Hello) -> None:
        """The worker is warm: ready for jobs, and a recycled predecessor that is idle
        hands over to it now."""
        if worker.state is not WorkerState.STARTING:  # retired before it said hello
            return
        worker.move(WorkerTransition.READY)
        self.respawn_delay = 0.0
        log.info("worker %d started (pid %d) in %.2f s (slots mapped and warm-up %.2f s)",
                 worker.index, message.pid, self.now() - worker.started, message.ready_in)
        for predecessor in list(self._workers):
            if (predecessor.index == worker.index and predecessor.successor_launched
                    and predecessor.state is WorkerState.IDLE):
                self._retire(predecessor, worker)
        self.changed()
        self._warm_if_all_ready()
        self.worker_ready(worker)

    def assign(self, worker: WorkerHandle, job: Assignment) -> None:
        """The supervisor gave ``worker`` this job (its message is sent)."""
        worker.move(WorkerTransition.ASSIGN)
        worker.assignment = job

    def finished(self, worker: WorkerHandle) -> Assignment | None:
        """The worker's job ended, however: it is free again (a retiring worker stays
        STOPPING), and after ``recycle_after`` frames its successor is launched, or it
        retires if that successor is ready. Returns the job it held."""
        job, worker.assignment = worker.assignment, None
        if worker.state is WorkerState.BUSY:
            worker.move(WorkerTransition.FINISH)
        worker.frames_done += job is not None and job.kind is JobKind.JOB
        limit = self.recycle_after
        idle = worker.state is WorkerState.IDLE and self._open()
        if idle and worker.successor_launched and (successor := self._ready_successor(worker)):
            self._retire(worker, successor)
        elif idle and limit and worker.frames_done >= limit and not worker.successor_launched:
            # The successor warms up while this worker keeps taking frames: recycling
            # never leaves the service a worker short, nor a frame waiting for a start.
            log.info("worker %d (pid %d): %d frames done; starting its successor",
                     worker.index, worker.pid, worker.frames_done)
            worker.successor_launched = True
            self._in_background(self._launch_successor(worker))
        self.changed()
        return job

    def kill(self, worker: WorkerHandle, reason: str) -> None:
        """Kill a worker on purpose; ``reason`` is what its lost job is told."""
        worker.exit_reason = reason
        kill_process(worker)

    async def on_exit(self, worker: WorkerHandle) -> None:
        """A worker was reaped: tell the supervisor, then replace it unless another of its
        index runs or is on its way (a recycled worker's successor)."""
        was, job = worker.state, worker.assignment
        worker.move(WorkerTransition.EXIT)
        self._workers.remove(worker)
        if job is not None:
            self.worker_lost(worker, job)
        elif was is not WorkerState.STOPPING:
            log.error("worker %d (pid %d) %s", worker.index, worker.pid,
                      describe_exit(worker.returncode))
        self.changed()
        failed_to_start = self._open() and was is WorkerState.STARTING
        if failed_to_start and self.state is PoolState.STARTING:
            self._move(PoolTransition.WARM)  # waiting for its hello would not help
        self.worker_gone(worker)
        if failed_to_start:  # never said hello: do not spin
            self.respawn_delay = min(RESPAWN_DELAY_MAX, 2 * self.respawn_delay or 1.0)
            log.error("worker %d failed to start; next try in %.0f s", worker.index,
                      self.respawn_delay)
            await self.sleep(self.respawn_delay)
        if self._open() and not self._has_worker(worker.index):
            await self.spawn(worker.index)

    # --- recycling -------------------------------------------------------------------------

    async def _launch_successor(self, worker: WorkerHandle) -> None:
        try:
            await self.spawn(worker.index)
        except Exception as error:  # this worker keeps working; tried again after its next frame
            worker.successor_launched = False
            log.error("worker %d (pid %d): its successor could not be launched: %r",
                      worker.index, worker.pid, error)

    def _ready_successor(self, worker: WorkerHandle) -> WorkerHandle | None:
        """The worker of the same index that said hello after this one was recycled."""
        return next((other for other in self._workers
                     if other.index == worker.index and not other.successor_launched
                     and other.state in (WorkerState.IDLE, WorkerState.BUSY)), None)

    def _retire(self, worker: WorkerHandle, successor: WorkerHandle) -> None:
        """Stop a recycled worker whose successor is ready (it is idle: nothing is lost)."""
        log.info("worker %d (pid %d): recycled after %d frames; pid %d took over",
                 worker.index, worker.pid, worker.frames_done, successor.pid)
        worker.move(WorkerTransition.RETIRE)
        self._in_background(stop_worker(worker, grace=RETIRE_GRACE))

    def _has_worker(self, index: int) -> bool:
        """Whether a worker of this index that is not on its way out runs or is being
        launched (a recycled worker's successor, a replacement): an exit needs no other."""
        return index in self._launching or any(
            w.index == index and not w.successor_launched for w in self._workers)

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` beside the loop, keeping a reference until it is done."""
        self._background.add(task := asyncio.ensure_future(work))
        task.add_done_callback(self._background.discard)
