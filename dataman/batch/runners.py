"""Feeding frames to workers and streaming their outcomes back: a local pool or a Dask cluster.

Both runners submit :func:`dataman.batch.task.run_frame`, the same function,
and keep only a small window of frames in flight (twice the workers), so the
outcomes come back as frames finish and ctrl+c has little to wait for.

ctrl+c (SIGINT) in the parent does not raise: :class:`StopFlag` notes it, the
runner feeds no more frames, cancels those not yet started and waits for the
frames being processed to finish. The local workers ignore SIGINT (a
terminal sends it to every process of the group), so no frame is cut in the
middle of a write; the publication itself is atomic in any case, and removes
its temporary when it fails. A second ctrl+c stops waiting.
"""

from __future__ import annotations

import signal
from asyncio import CancelledError
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from types import FrameType
from typing import Any

from dataman.batch.task import FAILED, FrameJob, Outcome, init_worker, run_frame, worker_pid
from dataman.core.errors import DataManError

Report = Callable[[Outcome], None]
#: How long the local runner waits for a frame before it looks at ctrl+c again.
POLL = 0.25


class ClusterUnavailable(DataManError):
    """The Dask scheduler cannot be reached, or no worker joins it (the reason says which)."""


@dataclass
class RunEnd:
    """How a run ended: frames never started, and why the runner gave up, if it did."""

    not_started: int
    broken: str = ""


class StopFlag:
    """ctrl+c while frames run: the first is noted (no more frames), the second stops waiting."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> StopFlag:
        self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, *exc_info: object) -> None:
        signal.signal(signal.SIGINT, self._previous)

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """While the pool forks its workers: they are born ignoring ctrl+c, before any Python
    runs in them (the initializer says so again, for other start methods)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class LocalRunner:
    """``workers`` processes of this machine, each keeping its configuration and buffers.

    Entering starts them all, with ctrl+c ignored from their first instruction
    (``_sigint_ignored``). They are forked from a server process that has
    imported the pipeline, not from this one: forking a process that runs
    threads (rich's bar, numpy's BLAS pool) is unsafe.
    """

    name = "local"

    def __init__(self, workers: int, config_source: str) -> None:
        self.workers, self.config_source = workers, config_source
        self._pool: ProcessPoolExecutor | None = None
        self._broken = ""

    def __enter__(self) -> LocalRunner:
        context = get_context("forkserver")
        context.set_forkserver_preload(["dataman.batch.task"])  # forked with the pipeline loaded
        with _sigint_ignored():
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context,
                                             initializer=init_worker,
                                             initargs=(self.config_source,))
            ready = [self._pool.submit(worker_pid) for _ in range(self.workers)]
        wait(ready)
        self._broken = next((f"the worker processes could not start: {future.exception()}"
                             for future in ready if future.exception() is not None), "")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    @property
    def description(self) -> str:
        return f"{self.workers} worker process{'es' if self.workers > 1 else ''} on this machine"

    def run(self, jobs: Sequence[FrameJob], report: Report, stop: StopFlag,
            note: Callable[[str], None]) -> RunEnd:
        """Process ``jobs``, reporting each outcome as it comes; frames not started are counted."""
        assert self._pool is not None, "enter the runner first"
        feed, broken, noted = deque(jobs), self._broken, False
        running: dict[Future[Outcome], FrameJob] = {}
        while True:
            while feed and len(running) < 2 * self.workers and not (stop.requested or broken):
                job = feed.popleft()
                running[self._pool.submit(run_frame, job)] = job
            if not running:
                break
            done, _ = wait(running, timeout=POLL, return_when=FIRST_COMPLETED)
            for future in done:
                job = running.pop(future)
                if future.cancelled():
                    feed.appendleft(job)
                    continue
                error = future.exception()
                if isinstance(error, BrokenProcessPool):
                    broken = broken or f"a worker process died ({error})"
                report(_outcome_of(future, job, "in a worker process"))
            if stop.requested or broken:
                for future, job in list(running.items()):
                    if future.cancel():
                        del running[future]
                        feed.appendleft(job)
            if stop.requested and not noted:
                noted = True
                note(_stopping(len(running)))
        return RunEnd(len(feed), broken)


class DaskRunner:
    """The workers of the Dask cluster whose scheduler is at ``address``.

    They must see the configuration file and every folder at the same paths
    as this machine (shared storage), and have dataMan installed. Entering
    connects and waits for a first worker: a cluster that cannot be used is
    said before any frame is sent.
    """

    name = "dask"

    def __init__(self, address: str, *, connect_timeout: float = 10.0,
                 worker_timeout: float = 60.0) -> None:
        self.address = address
        self.connect_timeout, self.worker_timeout = connect_timeout, worker_timeout
        self._client: Any = None
        self.threads = 0

    def __enter__(self) -> DaskRunner:
        from distributed import Client

        try:
            self._client = Client(self.address, timeout=f"{self.connect_timeout}s")
        except (OSError, TimeoutError) as error:
            raise ClusterUnavailable(
                f"cannot reach the Dask scheduler at {self.address}: {error}") from error
        try:
            self._client.wait_for_workers(1, timeout=self.worker_timeout)
        except TimeoutError as error:
            self._client.close()
            raise ClusterUnavailable(f"no worker joined the Dask cluster at {self.address} "
                                     f"within {self.worker_timeout:.0f} s") from error
        try:  # each worker imports the pipeline now, and says so if it cannot
            self._client.run(worker_pid)
        except Exception as error:
            self._client.close()
            raise ClusterUnavailable(f"the workers of the Dask cluster at {self.address} "
                                     f"cannot run dataMan: {type(error).__name__}: {error}") \
                from error
        self.threads = sum(self._client.nthreads().values())
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._client is not None:
            self._client.close()

    @property
    def description(self) -> str:
        return f"Dask cluster at {self.address} ({self.threads} worker threads)"

    def run(self, jobs: Sequence[FrameJob], report: Report, stop: StopFlag,
            note: Callable[[str], None]) -> RunEnd:
        """Process ``jobs`` on the cluster, reporting each outcome as it comes back."""
        from distributed import as_completed

        assert self._client is not None, "enter the runner first"
        feed, window, noted = deque(jobs), max(2, 2 * self.threads), False
        running: dict[Any, FrameJob] = {}
        completed = as_completed()

        def fill() -> None:
            while feed and len(running) < window and not stop.requested:
                job = feed.popleft()
                future = self._client.submit(run_frame, job, pure=False)
                running[future] = job
                completed.add(future)

        fill()
        for future in completed:
            report(_outcome_of(future, running.pop(future), "on the cluster"))
            if stop.requested and not noted:
                noted = True
                note(_stopping(len(running)))
            fill()
        return RunEnd(len(feed))


def _stopping(running: int) -> str:
    return (f"interrupted: no more frames are started; waiting for the {running} already "
            "given to the workers (ctrl+c again stops waiting)")


def _outcome_of(future: Any, job: FrameJob, where: str) -> Outcome:
    """The worker's outcome, or a failure saying what went wrong around it."""
    try:
        return future.result()
    except (Exception, CancelledError) as error:
        return Outcome(job.path, FAILED, f"{where}: {type(error).__name__}: {error}; "
                                         "run the same command again to finish this frame")
