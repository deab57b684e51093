"""The supervisor: runs the jobs it gives the workers, one event at a time.

It owns the queue, the journal, the shared-memory slots and the worker pool,
and never touches pixels, so it answers datagrams, the console and ``dataman
health`` at once however busy the workers are. Everything happens on one
asyncio loop; each event (a request, a worker message, a worker ready or gone,
a tick) changes state through the journal first and then calls :meth:`dispatch`.
Everything it depends on is given to its constructor: the clock (``now``, and
``sleep`` for the respawn backoff and the stop's wait), the worker launcher
(child processes when it runs, workers living in the test in
``tests/service/test_supervisor.py``) and the callbacks through which the
service hears of changes. So its whole lifecycle is tested in-process, in
milliseconds, stopping included.

What stays here is the job lifecycle: dispatch, job messages, time limits, a
job lost with its worker, stop. The workers' own lives (launch, hello,
recycling, respawn with backoff) are :class:`~dataman.service.worker_pool.WorkerPool`'s,
which tells the supervisor when a worker is ready, gone, or lost with a job in
hand. The bookkeeping at either end of a job is kept apart so this cycle stays
readable: :class:`~dataman.service.intake.Intake` journals and queues requests,
:class:`~dataman.service.outcomes.Outcomes` records how each job ended;
:class:`~dataman.service.summary.ObservingNight` logs each night's summary when
the night ends, and :class:`~dataman.service.night_report.NightReports` writes
its report then.

Frame flow::

    request ─Intake─▶ queue ─dispatch─▶ worker ─JobDone─▶ delivered (or backlog)
                                  │         └─JobFailed─▶ postponed (missing/incomplete)
                                  │                       or failed (bad frame)
                                  └─worker died─▶ queued again once, then failed
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from dataman.core.config import Config
from dataman.ipc.jobs import (
    DeliverJob,
    Job,
    JobDone,
    JobFailed,
    JobKind,
    LogLine,
    Message,
    StepStarted,
    UniqnameReserved,
)
from dataman.ipc.protocol_events import FrameRefused
from dataman.ipc.protocol_snapshot import FrameEntry
from dataman.ipc.slots import SlotPool
from dataman.ipc.states import ServiceState, Source
from dataman.service.backlog import DeliveryBacklog
from dataman.service.intake import Intake
from dataman.service.journal import IllegalTransition, Journal, JournalError
from dataman.service.leftovers import sweep, sweep_installation
from dataman.service.live_reserve import catch_up_may_start
from dataman.service.night_report import NightReports
from dataman.service.outcomes import Outcomes
from dataman.service.queue import FrameQueue, FrameRequest, QueuedFrame
from dataman.service.stall import ProcessingStall
from dataman.service.standing import night_notes
from dataman.service.summary import ObservingNight
from dataman.service.thumbnail_retention import prune_thumbnails
from dataman.service.waiting import RawFileWait
from dataman.service.worker_pool import WorkerPool
from dataman.service.worker_process import (
    Assignment,
    ProcessLauncher,
    WorkerHandle,
    WorkerLauncher,
    describe_exit,
)

log = logging.getLogger("dataman")
#: Longest pause (s) between tries to start a frame while the journal refuses to record
#: starts (locked by another program, disk error); the first pause is 1 s, then doubles.
JOURNAL_RETRY_MAX = 30.0
#: Longest time one dispatch spends looking for raw files (a flood of requests for files
#: that do not exist is checked a slice at a time, never stalling the loop), seconds.
PRESENCE_BUDGET = 0.02
#: Longest pause (s) of a stop's wait for frames in progress between two looks at them
#: (a worker's message or exit ends it sooner).
STOP_POLL = 0.2


def _ignore(*args: object) -> None:
    """The default callback: nobody listens."""


class Supervisor:
    """Owns queue, worker pool and slots; every event goes journal first, then ``dispatch``.

    ``changed(*sections)`` is told which snapshot sections moved, ``frame_finished(item)``
    each finished frame's ``recent`` item; ``launch`` starts a worker (default: a child
    process mapping ``slots``), for the pool.
    """

    def __init__(self, config: Config, journal: Journal, slots: SlotPool, *,
                 now: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 launch: WorkerLauncher | None = None,
                 changed: Callable[..., None] = _ignore,
                 frame_finished: Callable[[FrameEntry], None] = _ignore,
                 frame_refused: Callable[[FrameRefused], None] = _ignore) -> None:
        self.config, self.journal, self.slots, self.now = config, journal, slots, now
        self.sleep, self.changed = sleep, changed
        self.pool = WorkerPool(config.workers.count,
                               launch or ProcessLauncher(config.source, slots.names),
                               recycle_after=config.workers.recycle_after, now=now,
                               sleep=sleep, job_message=self.on_worker_message,
                               worker_ready=self._workers_moved, worker_gone=self._workers_moved,
                               worker_lost=self._job_lost,
                               changed=lambda: changed("workers"))
        self.queue = FrameQueue()
        self.backlog = DeliveryBacklog(config.service.delivery_retry_max)
        self.state = ServiceState.STARTING
        self.started_at = now()
        self.reports = NightReports(config.source, then=self._prune_thumbnails)
        self.night = ObservingNight(journal, config.site.utc_offset, now,
                                    ended=self.reports.start,
                                    notes=lambda *night: night_notes(self, *night))
        #: Said on the health line until the service stops (a damaged journal set aside).
        self.notices: list[str] = []
        self.wake = asyncio.Event()
        self.waiting = RawFileWait(journal, self.queue, config.service.wait_for_write)
        self.intake = Intake(journal, self.queue, self.waiting, refused=frame_refused)
        self.stall = ProcessingStall(config.service.delivery_retry_max)  # procDir full
        self.outcomes = Outcomes(journal, self.queue, self.backlog, self.waiting,
                                 changed=changed, finished=frame_finished, stall=self.stall,
                                 shadow=not config.service.deliver)
        self._journal_delay, self._journal_hold = 0.0, 0.0  # no frame starts before the hold
        self._sweeps: set[asyncio.Future[None]] = set()  # lost jobs' leftovers being removed

    # --- start and requests -------------------------------------------------------------

    async def start(self) -> None:
        """Requeue what the journal holds and start the workers; ``begin`` once they are
        ready (``pool.ready``)."""
        now = self.now()
        for record in self.journal.recover(now):  # catch-up, as the scan's finds
            self.queue.add(QueuedFrame.from_record(record, requeued=True))
        for record in self.journal.awaiting_delivery() if self.config.service.deliver else ():
            self.backlog.add(record.id, record.name, now)  # shadow: processed is the end
        if len(self.queue) or len(self.backlog):
            log.info("journal: %d frames queued again, %d awaiting delivery",
                     len(self.queue), len(self.backlog))
        await sweep_installation(self.config.paths, repo=self.config.service.deliver)
        await self.pool.start()
        self.changed("service", "queue", "workers", "transfers", "counts")
        # Years of old nights can take a while to remove: never in the way of the start.
        threading.Thread(target=self._prune_thumbnails, args=(self.night.date,),
                         name="prune-thumbnails", daemon=True).start()

    def _prune_thumbnails(self, night: str) -> None:
        """Old nights' thumbnails removed (thumbnail_retention.py); in a thread, never fails."""
        try:
            prune_thumbnails(self.config.paths.state_dir, self.config.quality.thumbnail_nights,
                             night)
        except Exception as error:  # housekeeping must never take the service down
            log.warning("could not remove old nights' thumbnails: %r", error)

    def begin(self) -> None:
        """Serve: dispatch from now on (unless paused meanwhile)."""
        if self.state is ServiceState.STARTING:
            self.state = ServiceState.RUNNING
        self.changed("service", "workers")
        self.dispatch()

    def request_frame(self, name: str, channel: str, path: Path, source: Source,
                      origin: str) -> None:
        """Journal a request, then queue it; a frame already known is not run twice."""
        self.request_frames([FrameRequest(name, channel, path, source, origin)])

    def request_frames(self, requests: list[FrameRequest]) -> None:
        """Journal requests in one transaction (one disk sync per burst), then queue them."""
        now = self.now()
        if self.intake.take(requests, now):
            self.outcomes.fail_expired(now)  # waitForWrite 0: a missing raw file fails at once
            self.changed("queue", "counts")
            self.dispatch()

    def pause(self) -> None:
        if self.state in (ServiceState.STARTING, ServiceState.RUNNING):
            self.state = ServiceState.PAUSED
            log.info("intake paused: requests are recorded and queued, none is started")
            self.changed("service")

    def resume(self) -> None:
        if self.state is ServiceState.PAUSED:
            self.state = ServiceState.RUNNING
            log.info("intake resumed (%d queued)", len(self.queue))
            self.changed("service")
            self.dispatch()

    def retry(self, name: str) -> None:
        """The operator asks for a failed frame again (``UnknownFrame``/``IllegalTransition``)."""
        self.intake.retry(name, self.now())
        self.changed("queue", "counts")
        self.dispatch()

    # --- dispatch -----------------------------------------------------------------------

    def dispatch(self) -> None:
        """Give work to idle workers: the oldest waiting delivery first, then frames
        (catch-up frames leaving ``liveReserve`` workers idle: live_reserve.py)."""
        if self.state is not ServiceState.RUNNING:
            return
        now, budget = self.now(), time.monotonic() + PRESENCE_BUDGET
        for worker in self.pool.idle():
            due = self.backlog.due(now)
            if due is not None:
                self._assign_delivery(worker, due.frame_id, now)
                continue
            startable = (self.slots.free_count and now >= self._journal_hold
                         and self.stall.allows_start(now))
            frame = self._next_frame(now, budget) if startable else None
            if frame is None:
                break
            self._assign_frame(worker, frame, now)
        self.outcomes.fail_expired(now)

    def _next_frame(self, now: float, budget: float) -> QueuedFrame | None:
        """The first queued frame whose raw file is there; None when it is a catch-up frame
        that would take a worker kept for live requests (live frames come first: none is
        ready then)."""
        frame = self.queue.next_ready(now)
        while frame is not None:
            if frame.catch_up and not catch_up_may_start(self.pool.workers,
                                                         self.config.workers.live_reserve):
                return None
            if self.waiting.there(frame, now):
                return frame
            self.changed("queue")
            frame = self.queue.next_ready(now) if time.monotonic() < budget else None
        return None

    def _assign_frame(self, worker: WorkerHandle, frame: QueuedFrame, now: float) -> None:
        self.queue.remove(frame.id)
        try:
            record = self.journal.start(frame.id, worker.pid, now)
        except JournalError as error:
            self._start_refused(frame, error, now)
            return
        except IllegalTransition as error:  # the journal's state wins: not queued there
            log.error("%s: cannot start: %s", frame.name, error)
            return
        self._journal_delay = 0.0
        self.stall.started(record.id)
        slot = self.slots.acquire()
        assert slot is not None  # dispatch checked free_count
        worker.send(Job(record.id, str(record.path), slot.to_dict(), record.uniqname,
                        retry=record.attempts > 0 or record.uniqname is not None,
                        deliver=self.config.service.deliver and not len(self.backlog),
                        catch_up=frame.catch_up))
        self.pool.assign(worker, Assignment(record.id, record.name, slot, now))
        self.changed("queue", "workers", "counts")

    def _start_refused(self, frame: QueuedFrame, error: JournalError, now: float) -> None:
        """The journal could not record a start: the frame is still queued there, so it
        goes back to its place in the queue, its worker and slot stay free, and no frame
        starts until a pause (doubling while the journal keeps refusing) has passed."""
        self._journal_delay = min(JOURNAL_RETRY_MAX, 2 * self._journal_delay or 1.0)
        self._journal_hold = now + self._journal_delay
        frame.reason = f"the journal refused its start: {error}"
        self.queue.add(frame)
        log.error("%s: cannot start: %s; trying again in %.0f s", frame.name, error,
                  self._journal_delay)
        self.changed("queue")

    def _assign_delivery(self, worker: WorkerHandle, frame_id: int, now: float) -> None:
        record = self.journal.get(frame_id)
        self.backlog.begin(frame_id)
        worker.send(DeliverJob(record.id, str(record.processed_path), record.name,
                               record.uniqname or record.name, record.channel.upper()))
        self.pool.assign(worker, Assignment(record.id, record.name, None, now,
                                            kind=JobKind.DELIVER, step="deliver",
                                            step_started=now))
        self.changed("workers")

    # --- worker messages ----------------------------------------------------------------

    def on_worker_message(self, worker: WorkerHandle, message: Message) -> None:
        """A worker's message about its job (the pool takes its hello)."""
        try:
            self._handle(worker, message)
        except (JournalError, IllegalTransition) as error:
            log.error("journal: %s", error)
        self.wake.set()
        self.dispatch()

    def _handle(self, worker: WorkerHandle, message: Message) -> None:
        job = worker.assignment
        if isinstance(message, LogLine):
            log.log(message.level, "%s", message.message)
        elif job is None or getattr(message, "frame_id", job.frame_id) != job.frame_id:
            log.error("worker %d (pid %d): unexpected %s", worker.index, worker.pid,
                      message.kind)
        elif isinstance(message, StepStarted):
            job.step, job.step_started = message.step, self.now()
            self.changed("workers")
        elif isinstance(message, UniqnameReserved):
            self.journal.set_uniqname(job.frame_id, message.uniqname)
        elif isinstance(message, JobDone | JobFailed):
            try:  # the outcome first, and the worker is free again whatever the journal says
                if isinstance(message, JobDone):
                    self.outcomes.done(job, message, self.now())
                else:
                    self.outcomes.failed(job, message, self.now())
            finally:
                self._finish(worker)

    def _finish(self, worker: WorkerHandle) -> None:
        """The worker's job ended: its slot is free, the worker too (or it is recycled)."""
        job = self.pool.finished(worker)
        if job is not None and job.slot is not None:
            self.slots.release(job.slot)

    # --- what the pool tells ------------------------------------------------------------

    def _workers_moved(self, worker: WorkerHandle) -> None:
        """A worker became ready, or one is gone: who waits hears of it, and work may go
        to the workers there are now (a live reserve counts them)."""
        self.wake.set()
        self.dispatch()

    def _job_lost(self, worker: WorkerHandle, job: Assignment) -> None:
        """A worker exited with ``job`` in hand: its slot is free, its frame queued again
        once (or kept for the next start, when stopping), its partial outputs removed."""
        if job.slot is not None:
            self.slots.release(job.slot)
        reason = worker.exit_reason or (
            f"worker {worker.index} (pid {worker.pid}) {describe_exit(worker.returncode)}"
            f" during {job.step or 'start'}")
        try:  # whatever the journal says, the pool replaces the worker
            self.outcomes.lost(job, reason, self.now(),
                               stopping=self.state is ServiceState.STOPPING)
        except (JournalError, IllegalTransition) as error:
            log.error("%s: %s; could not record it: %s", job.name, reason, error)
        self._sweeps.add(task := asyncio.ensure_future(
            sweep(self.config.paths, [job.name], f"by worker pid {worker.pid}",
                  repo=self.config.service.deliver)))
        task.add_done_callback(self._sweeps.discard)

    # --- time ---------------------------------------------------------------------------

    def tick(self) -> None:
        """Periodic duties: job time limits, postponed frames, backoff, the night's end."""
        now = self.now()
        limit = self.config.workers.job_timeout
        for worker in self.pool.busy():
            job = worker.assignment
            if job and now - job.started > limit:
                self.pool.kill(worker, f"time limit of {limit:.0f} s exceeded during "
                                       f"{job.step or 'start'} (worker pid {worker.pid} killed)")
        self.night.check()
        self.dispatch()

    # --- stop ---------------------------------------------------------------------------

    async def stop(self) -> None:
        """Finish frames in progress (bounded by stopTimeout on the injected clock), then
        stop every worker."""
        self.state = ServiceState.STOPPING
        self.pool.drain()
        self.changed("service")
        deadline = self.now() + self.config.service.stop_timeout
        while self.pool.busy() and self.now() < deadline:
            self.wake.clear()
            await self._woken_or_slept(min(STOP_POLL, deadline - self.now()))
        busy = [w.assignment.name for w in self.pool.workers if w.assignment]
        if busy:
            log.warning("stop: %s still in progress after %.0f s; stopping anyway",
                        ", ".join(busy), self.config.service.stop_timeout)
        await self.pool.stop(grace=2.0)
        self.night.log_so_far()

    async def _woken_or_slept(self, seconds: float) -> None:
        """Until ``wake`` is set (a worker's message or exit) or ``seconds`` have passed on
        the injected clock (``sleep``), whichever comes first."""
        waits = [asyncio.ensure_future(self.wake.wait()),
                 asyncio.ensure_future(self.sleep(seconds))]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
