"""One worker process as the supervisor sees it: start, talk to, stop and reap it.

Each worker is a ``python -m dataman.service.worker`` child with one end of a
Unix socket pair; the supervisor reads its messages with an asyncio stream.
Which workers run, and when one is launched, recycled or replaced, is the
pool's business (:class:`~dataman.service.worker_pool.WorkerPool`); this module
is the single process. The pool is given a *launcher* (:class:`ProcessLauncher`
when the service runs); a handle needs of its process only ``pid``, ``kill``
and ``wait`` and of its pipe only ``write``/``close``, so the unit tests launch
workers that live in the test itself.
A worker's life is an explicit state machine; every change goes through
``WorkerHandle.move`` with a named transition::

    STARTING ──READY──▶ IDLE ──ASSIGN──▶ BUSY ──FINISH──▶ IDLE
        │                 │                │
        │               RETIRE (recycle, stop)            any ──EXIT──▶ EXITED
        │                 ▼                │                (reaped: died or stopped)
        └──────────────▶ STOPPING ◀────────┘ (stop with a job in hand)
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Protocol

from dataman.core.errors import DataManError
from dataman.ipc.jobs import JobKind, Message, MessageError, Stop, decode, encode
from dataman.ipc.slots import SlotRef
from dataman.ipc.states import WorkerState

log = logging.getLogger("dataman")


class WorkerTransition(Enum):
    READY = ({WorkerState.STARTING}, WorkerState.IDLE)
    ASSIGN = ({WorkerState.IDLE}, WorkerState.BUSY)
    FINISH = ({WorkerState.BUSY}, WorkerState.IDLE)
    RETIRE = ({WorkerState.STARTING, WorkerState.IDLE, WorkerState.BUSY}, WorkerState.STOPPING)
    EXIT = (set(WorkerState) - {WorkerState.EXITED}, WorkerState.EXITED)

    def __init__(self, sources: set[WorkerState], target: WorkerState) -> None:
        self.sources = frozenset(sources)
        self.target = target


class IllegalWorkerTransition(DataManError):
    """A worker was asked to change state along an edge its machine does not have."""


@dataclass
class Assignment:
    """The job a busy worker holds: which frame, which slot, and where it is."""

    frame_id: int
    name: str
    slot: SlotRef | None  # returned to the pool when the job ends
    started: float
    kind: JobKind = JobKind.JOB
    step: str | None = None
    step_started: float | None = None


class WorkerProcess(Protocol):
    """What the supervisor uses of a worker's process (``asyncio.subprocess.Process``)."""

    @property
    def pid(self) -> int: ...

    def kill(self) -> None: ...

    async def wait(self) -> int: ...


class WorkerPipe(Protocol):
    """What the supervisor uses of the stream to a worker (``asyncio.StreamWriter``)."""

    def write(self, data: bytes) -> None: ...

    def is_closing(self) -> bool: ...

    def close(self) -> None: ...


@dataclass
class WorkerHandle:
    index: int
    process: WorkerProcess
    writer: WorkerPipe
    state: WorkerState = WorkerState.STARTING
    started: float = field(default_factory=time.time)
    pid: int = 0
    frames_done: int = 0
    assignment: Assignment | None = None
    returncode: int | None = None
    exit_reason: str | None = None  # set before the supervisor kills it on purpose
    reader_task: asyncio.Task[None] | None = None
    #: Recycling: a successor was launched for this worker's index, and this one keeps
    #: working until the successor is ready, then retires as soon as it is idle.
    successor_launched: bool = False

    def move(self, transition: WorkerTransition) -> None:
        if self.state not in transition.sources:
            raise IllegalWorkerTransition(
                f"worker {self.index} (pid {self.pid}): cannot {transition.name} while "
                f"{self.state}")
        self.state = transition.target

    def send(self, message: Message) -> None:
        """Queue a message to the worker; a dead worker is noticed by its reaper."""
        if not self.writer.is_closing():
            self.writer.write(encode(message))


MessageHandler = Callable[[WorkerHandle, Message], None]
ExitHandler = Callable[[WorkerHandle], Awaitable[None] | None]
#: Starts worker ``index``: its messages go to the handler, its exit (once reaped) to the
#: exit handler (:func:`reap`). The worker pool's only way to make a worker.
WorkerLauncher = Callable[[int, MessageHandler, ExitHandler], Awaitable[WorkerHandle]]


@dataclass(frozen=True)
class ProcessLauncher:
    """Starts each worker as a child process that maps the slots ``slots`` names."""

    config_path: Path
    slots: list[str]

    async def __call__(self, index: int, on_message: MessageHandler,
                       on_exit: ExitHandler) -> WorkerHandle:
        return await start_worker(index, self.config_path, on_message, on_exit, self.slots)


async def start_worker(index: int, config_path: Path, on_message: MessageHandler,
                       on_exit: ExitHandler, slots: list[str] | None = None) -> WorkerHandle:
    """Spawn a worker and a task that feeds its messages to ``on_message`` until it exits.

    The worker maps ``slots`` (names) and warms up before it says hello.
    """
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    options = [argument for name in slots or [] for argument in ("--slot", name)]
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "dataman.service.worker", "--fd", str(theirs.fileno()),
            "-c", str(config_path), *options, pass_fds=(theirs.fileno(),),
            stdin=asyncio.subprocess.DEVNULL)
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    reader, writer = await asyncio.open_unix_connection(sock=ours, limit=1 << 20)
    worker = WorkerHandle(index, process, writer, pid=process.pid)
    worker.reader_task = asyncio.create_task(
        _read_messages(worker, reader, on_message, on_exit), name=f"worker-{index}")
    return worker


async def _read_messages(worker: WorkerHandle, reader: asyncio.StreamReader,
                         on_message: MessageHandler, on_exit: ExitHandler) -> None:
    try:
        while line := await reader.readline():
            try:
                message = decode(line)
            except MessageError as error:
                log.error("worker %d (pid %d): bad message: %s", worker.index, worker.pid, error)
                continue
            _safely(on_message, worker, message)
    except (ConnectionError, asyncio.LimitOverrunError, ValueError) as error:
        log.error("worker %d (pid %d): connection lost: %s", worker.index, worker.pid, error)
    await reap(worker, on_exit)


async def reap(worker: WorkerHandle, on_exit: ExitHandler) -> None:
    """Once a worker's messages end: wait for its process, then tell ``on_exit``."""
    worker.writer.close()
    worker.returncode = await worker.process.wait()
    try:
        result = on_exit(worker)
        if result is not None:
            await result
    except Exception as error:  # a bug in the bookkeeping must not leave a worker unreaped
        log.error("worker %d (pid %d): error while recording its exit: %r", worker.index,
                  worker.pid, error, exc_info=log.isEnabledFor(logging.DEBUG))


def _safely(handler: MessageHandler, worker: WorkerHandle, message: Message) -> None:
    """One bad message (or a bug in handling it) costs that message, not the worker."""
    try:
        handler(worker, message)
    except Exception as error:  # a bug: its traceback too when logging at DEBUG
        log.error("worker %d (pid %d): error handling %s: %r", worker.index, worker.pid,
                  message.kind, error, exc_info=log.isEnabledFor(logging.DEBUG))


def describe_exit(returncode: int | None) -> str:
    """'exited with status 1', 'killed by SIGKILL'."""
    if returncode is None:
        return "still running"
    if returncode < 0:
        with suppress(ValueError):
            return f"killed by {signal.Signals(-returncode).name}"
        return f"killed by signal {-returncode}"
    return f"exited with status {returncode}"


async def stop_worker(worker: WorkerHandle, grace: float) -> None:
    """Ask a worker to stop; kill it if it has not exited after ``grace`` seconds."""
    if worker.state is WorkerState.EXITED:
        return
    worker.send(Stop())
    try:
        await asyncio.wait_for(asyncio.shield(worker.process.wait()), grace)
    except TimeoutError:
        kill(worker)
        await worker.process.wait()


def kill(worker: WorkerHandle) -> None:
    """SIGKILL; a worker that is gone already is no error (its reaper records the exit)."""
    with suppress(ProcessLookupError):
        worker.process.kill()
