"""A journal that refuses to record a frame's start strands nothing.

The fault is real: a second sqlite connection holds the journal's write lock,
as another program (an operator's ``sqlite3`` shell, a backup) can. The frame
stays queued in its place, its worker and slot stay free, starts are held back
for a pause, and the frame starts as soon as the lock is gone.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path

from dataman.core.config import Config
from dataman.ipc.jobs import Hello, Job, decode
from dataman.ipc.slots import FrameBudget, SlotPool
from dataman.ipc.states import ServiceState, Source, WorkerState
from dataman.service.journal import FILE_NAME, Journal
from dataman.service.supervisor import Supervisor
from dataman.service.worker_process import ExitHandler, MessageHandler, WorkerHandle

NAME = "mods1b.20251230.0001.fits"


class Clock:
    def __init__(self, value: float) -> None:
        self.value = value

    def __call__(self) -> float:
        return self.value


def impatient_journal(state_dir: Path) -> Journal:
    """The service's journal file, waiting 0.1 s for a lock instead of sqlite3's 5 s."""
    Journal.open(state_dir).close()  # creates the file, its schema and WAL mode
    db = sqlite3.connect(state_dir / FILE_NAME, timeout=0.1, isolation_level=None)
    db.row_factory = sqlite3.Row
    return Journal(db, state_dir / FILE_NAME)


def journal_state(state_dir: Path) -> str:
    with sqlite3.connect(f"file:{state_dir / FILE_NAME}?mode=ro", uri=True) as db:
        return db.execute("SELECT state FROM frames WHERE name = ?", (NAME,)).fetchone()[0]


async def refused_then_started(config: Config, caplog) -> None:
    state_dir = config.paths.state_dir
    raw = config.paths.data_dir / "mods1b" / NAME
    raw.parent.mkdir(parents=True)
    raw.write_bytes(b"")  # only its presence is checked before a start
    clock = Clock(1_767_000_000.0)
    ours, theirs = socket.socketpair()
    with impatient_journal(state_dir) as journal, theirs, \
            SlotPool.create("t" + uuid.uuid4().hex[:12], 1, FrameBudget(4096, 4096)) as slots:
        _, writer = await asyncio.open_unix_connection(sock=ours)
        try:
            await refused_then_started_with(config, journal, slots, writer, theirs, clock, caplog)
        finally:
            writer.close()


async def refused_then_started_with(config: Config, journal: Journal, slots: SlotPool,
                                    writer: asyncio.StreamWriter, theirs: socket.socket,
                                    clock: Clock, caplog) -> None:
    state_dir, raw = config.paths.state_dir, config.paths.data_dir / "mods1b" / NAME
    # A worker as the supervisor sees one: the job goes into a real socket.
    worker = WorkerHandle(0, None, writer, pid=4242)  # type: ignore[arg-type]

    async def launch(index: int, on_message: MessageHandler, on_exit: ExitHandler) -> WorkerHandle:
        return worker

    supervisor = Supervisor(config, journal, slots, now=clock, launch=launch)
    await supervisor.pool.spawn(0)
    supervisor.pool.hello(worker, Hello(worker.pid))
    supervisor.state = ServiceState.RUNNING
    supervisor.pause()
    supervisor.request_frame(NAME, "mods1b", raw, Source.DATAGRAM, "127.0.0.1")
    assert journal_state(state_dir) == "queued"

    with closing(sqlite3.connect(state_dir / FILE_NAME, isolation_level=None)) as locker:
        locker.execute("BEGIN EXCLUSIVE")  # another program holds the write lock
        supervisor.resume()  # dispatch: the journal refuses the start
        assert journal_state(state_dir) == "queued"
        assert [frame.name for frame in supervisor.queue.ordered()] == [NAME]
        assert "the journal refused its start" in (supervisor.queue.ordered()[0].reason or "")
        assert worker.state is WorkerState.IDLE and worker.assignment is None
        assert slots.free_count == 1
        refusals = [r.getMessage() for r in caplog.records if "cannot start" in r.getMessage()]
        assert refusals == [f"{NAME}: cannot start: {state_dir / FILE_NAME}: database is"
                            " locked; trying again in 1 s"]
        clock.value += 0.5
        supervisor.tick()  # within the pause: not tried again
        assert sum("cannot start" in r.getMessage() for r in caplog.records) == 1
        locker.execute("ROLLBACK")

    clock.value += 0.5
    supervisor.tick()  # the pause is over and the lock gone: the frame starts
    assert journal_state(state_dir) == "running"
    assert len(supervisor.queue) == 0
    assert worker.state is WorkerState.BUSY and worker.assignment is not None
    assert worker.assignment.name == NAME and slots.free_count == 0
    await writer.drain()
    theirs.settimeout(5)
    with theirs.makefile("rb") as stream:
        job = decode(stream.readline())
    assert isinstance(job, Job) and job.path == str(raw)


def test_a_start_the_journal_refuses_is_tried_again_with_worker_and_slot_free(config, caplog):
    caplog.set_level(logging.INFO, logger="dataman")
    asyncio.run(refused_then_started(config, caplog))
