"""A real worker runs a catch-up job at nice 10 and the idle I/O class, a live one as it started.

The worker is a child process talking over a socket pair, as the supervisor
starts it. It sets its priority as a job arrives, before running it, and keeps
it until the next job: so once a job has ended (here failed at once: its raw
file is empty), every thread's nice value (``/proc/<pid>/task/<tid>/stat``) and
I/O class (psutil) are those the job ran at, read with no race and no hold.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from dataman.core.config import Config
from dataman.ipc.jobs import (
    Hello,
    Job,
    JobFailed,
    Message,
    Stop,
    decode,
    encode,
)
from dataman.ipc.slots import FrameBudget, SlotPool

pytestmark = pytest.mark.slow
DEADLINE = 120.0  # a loaded machine: the worker's start includes its warm-up frame


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    sock: socket.socket
    lines: object

    def send(self, message: Message) -> None:
        self.sock.sendall(encode(message))

    def receive(self, kind: type[Message]) -> Message:
        """The next message of ``kind`` (others skipped), within the deadline."""
        while True:
            ready, _, _ = select.select([self.sock], [], [], DEADLINE)
            assert ready, f"no {kind.kind} message from the worker in {DEADLINE} s"
            line = self.lines.readline()  # type: ignore[attr-defined]
            assert line, "the worker closed its socket"
            message = decode(line)
            if isinstance(message, kind):
                return message


@pytest.fixture
def worker(config: Config) -> Iterator[Worker]:
    ours, theirs = socket.socketpair()
    process = subprocess.Popen(
        [sys.executable, "-m", "dataman.service.worker", "--fd", str(theirs.fileno()),
         "-c", str(config.source)], pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL)
    theirs.close()
    ours.setblocking(True)
    handle = Worker(process, ours, ours.makefile("rb", buffering=0))
    try:
        handle.receive(Hello)
        yield handle
    finally:
        handle.send(Stop())
        try:
            process.wait(timeout=DEADLINE)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            ours.close()


def priorities(pid: int) -> set[tuple[int, int]]:
    """(nice, I/O class) of every thread of ``pid``."""
    found = set()
    for tid in os.listdir(f"/proc/{pid}/task"):
        stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        nice = int(stat.rsplit(")", 1)[1].split()[16])  # field 19 of proc(5)
        found.add((nice, int(psutil.Process(int(tid)).ionice().ioclass)))
    return found


def job_at(worker: Worker, config: Config, pool: SlotPool, number: int,
           catch_up: bool) -> set[tuple[int, int]]:
    """Run a job (an empty raw file: it fails at once); the priorities it ran at."""
    raw = config.paths.data_dir / "mods1b" / f"mods1b.20251230.{number:04d}.fits"
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_bytes(b"")
    slot = pool.acquire()
    assert slot is not None
    worker.send(Job(number, str(raw), slot.to_dict(), catch_up=catch_up))
    answer = worker.receive(JobFailed)
    assert isinstance(answer, JobFailed) and (answer.frame_id, answer.cause) == (number,
                                                                                "incomplete")
    pool.release(slot)
    return priorities(worker.process.pid)


def test_a_catch_up_job_runs_lower_and_a_live_job_as_the_worker_started(worker, config):
    nice = os.getpriority(os.PRIO_PROCESS, 0)  # the worker inherits the test's values
    if nice >= 10:
        pytest.skip(f"the tests run at nice {nice}: a catch-up job's nice 10 is no lower")
    start = {(nice, int(psutil.Process().ionice().ioclass))}
    assert priorities(worker.process.pid) == start
    lowered = {(10, psutil.IOPRIO_CLASS_IDLE)}
    with SlotPool.create(f"jp{uuid.uuid4().hex[:8]}", 1, FrameBudget(4096, 4096)) as pool:
        assert job_at(worker, config, pool, 1, catch_up=False) == start
        assert job_at(worker, config, pool, 2, catch_up=True) == lowered
        assert job_at(worker, config, pool, 3, catch_up=True) == lowered
        # Back up: permitted to root, or within RLIMIT_NICE (the unit's LimitNICE=+0).
        assert job_at(worker, config, pool, 4, catch_up=False) == start
    assert len(os.listdir(f"/proc/{worker.process.pid}/task")) > 1  # the pools' threads too
