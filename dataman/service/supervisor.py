"""The supervisor: turns requests into jobs for its workers and records every outcome.

It owns the queue, the journal, the shared-memory slots and the workers, and
never touches pixels, so it answers datagrams, the console and ``dataman
health`` at once however busy the workers are. Everything happens on one
asyncio loop; each event (a datagram, a worker message, a worker exit, a tick)
changes state through the journal first and then calls :meth:`dispatch`.
Time comes from the injectable ``now`` so the bookkeeping is testable.

Frame flow::

    request ─journal─▶ queue ─dispatch─▶ worker ─JobDone─▶ delivered (or backlog)
                                   │         └─JobFailed─▶ postponed (missing/incomplete)
                                   │                       or failed (bad frame)
                                   └─worker died─▶ queued again once, then failed
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from dataman.core.config import Config
from dataman.core.nightlog import observing_date
from dataman.ipc.jobs import (
    DeliverJob,
    Hello,
    Job,
    JobDone,
    JobFailed,
    LogLine,
    Message,
    StepStarted,
    UniqnameReserved,
)
from dataman.ipc.slots import SlotPool
from dataman.service.backlog import DeliveryBacklog
from dataman.service.journal import IllegalTransition, Journal, JournalError
from dataman.service.leftovers import sweep
from dataman.service.outcomes import frame_item, latency_of, step_timings
from dataman.service.pool import (
    Assignment,
    WorkerHandle,
    WorkerState,
    WorkerTransition,
    describe_exit,
    kill,
    start_worker,
    stop_all,
    stop_worker,
)
from dataman.service.queue import FrameQueue, FrameRequest, QueuedFrame
from dataman.service.records import FrameState, Source
from dataman.service.repeats import RepeatedRequests
from dataman.service.summary import log_night_summary
from dataman.service.waiting import RawFileWait

log = logging.getLogger("dataman")
RESPAWN_DELAY_MAX = 30.0
#: Longest time one dispatch spends looking for raw files (a flood of requests for files
#: that do not exist is checked a slice at a time, never stalling the loop), seconds.
PRESENCE_BUDGET = 0.02


class ServiceState(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"  # requests are journaled and queued, no new job starts
    STOPPING = "stopping"


class Supervisor:
    def __init__(self, config: Config, journal: Journal, slots: SlotPool, *,
                 now: Callable[[], float] = time.time) -> None:
        self.config, self.journal, self.slots, self.now = config, journal, slots, now
        self.queue = FrameQueue()
        self.backlog = DeliveryBacklog(config.service.delivery_retry_max)
        self.workers: list[WorkerHandle] = []
        self.state = ServiceState.STARTING
        self.started_at = now()
        self.recent: deque[dict[str, Any]] = deque(maxlen=100)
        self.last_delivered: dict[str, Any] | None = None
        self.last_by_channel: dict[str, str] = {}
        self.night = self.observing_date()
        self.log_file: Path | None = None
        # Set by the service: a section of the snapshot changed / a frame finished.
        self.changed: Callable[..., None] = lambda *sections: None
        self.frame_finished: Callable[[dict[str, Any]], None] = lambda item: None
        self.wake = asyncio.Event()
        self.waiting = RawFileWait(self.queue, config.service.wait_for_write)
        self._repeats = RepeatedRequests()
        self._respawn_delay = 0.0
        self._background: set[asyncio.Future[None]] = set()

    # --- start and requests -------------------------------------------------------------

    async def start(self) -> None:
        """Requeue what the journal holds, start the workers, and begin serving."""
        now = self.now()
        for record in self.journal.recover(now):
            self.queue.add(QueuedFrame.from_record(record))
        for record in self.journal.awaiting_delivery():
            self.backlog.add(record.id, record.name, now)
        if len(self.queue) or len(self.backlog):
            log.info("journal: %d frames queued again, %d awaiting delivery",
                     len(self.queue), len(self.backlog))
            taken_over = [frame.name for frame in self.queue.ordered()] + self.backlog.names
            await sweep(self.config.paths, taken_over, "by a killed run")
        for index in range(self.config.workers.count):
            await self.spawn_worker(index)
        self.state = ServiceState.RUNNING
        self.changed("service", "queue", "workers", "transfers", "counts")

    def request_frame(self, name: str, channel: str, path: Path, source: Source,
                      origin: str) -> None:
        """Journal a request, then queue it; a frame already known is not run twice."""
        self.request_frames([FrameRequest(name, channel, path, source, origin)])

    def request_frames(self, requests: list[FrameRequest]) -> None:
        """Journal requests in one transaction (one disk sync per burst), then queue them."""
        now = self.now()
        try:
            answers = self.journal.request_many(
                [(r.name, r.path, r.channel, r.source) for r in requests], now)
        except JournalError as error:
            for request in requests:
                log.error("%s: request from %s NOT recorded: %s", request.name,
                          request.origin, error)
            return
        for request, answer in zip(requests, answers, strict=True):
            self._take(request, answer.id, answer.is_new, now)
        self._fail_expired(now)  # waitForWrite 0: a missing raw file fails at once
        self.changed("queue", "counts")
        self.dispatch()

    def _take(self, request: FrameRequest, frame_id: int, is_new: bool, now: float) -> None:
        record = self.journal.get(frame_id)
        name, origin = request.name, request.origin
        if is_new:
            log.info("%s: requested by %s (%d queued)", name, origin, len(self.queue) + 1)
            frame = QueuedFrame.from_record(record)
            if self.waiting.there(frame, now):  # else it waits behind frames that are there
                self.queue.add(frame)
        elif record.state is FrameState.QUEUED and record.id in self.queue:
            self.queue.promote(record.id, record.source)  # a scan find, live after all
        elif request.source is not Source.SCAN and self._repeats.should_log(name, now):
            where = record.delivered_path or record.processed_path or ""
            more = self._repeats.suppressed(name)
            log.info("%s: requested by %s, already %s %s; not processed again%s",
                     name, origin, record.state, where,
                     f" ({more} more such requests not logged)" if more else "")

    def pause(self) -> None:
        if self.state is ServiceState.RUNNING:
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
        record = self.journal.retry(name, self.now())
        self.queue.add(QueuedFrame.from_record(record))
        log.info("%s: retry requested from the console", name)
        self.changed("queue", "counts")
        self.dispatch()

    # --- dispatch -----------------------------------------------------------------------

    def dispatch(self) -> None:
        """Give work to idle workers: the oldest waiting delivery first, then frames."""
        if self.state is not ServiceState.RUNNING:
            return
        now, budget = self.now(), time.monotonic() + PRESENCE_BUDGET
        for worker in [w for w in self.workers if w.state is WorkerState.IDLE]:
            due = self.backlog.due(now)
            if due is not None:
                self._assign_delivery(worker, due.frame_id, now)
                continue
            frame = self.queue.next_ready(now) if self.slots.free_count else None
            while frame is not None and not self.waiting.there(frame, now):
                self.changed("queue")
                frame = self.queue.next_ready(now) if time.monotonic() < budget else None
            if frame is None:
                break
            self._assign_frame(worker, frame, now)
        self._fail_expired(now)

    def _fail_expired(self, now: float) -> None:
        """Fail, in one journal transaction, the frames whose raw file never came."""
        expired = self.waiting.take_expired()
        if not expired:
            return
        try:
            records = self.journal.expire(expired, now)
        except (JournalError, IllegalTransition) as error:
            log.error("%d frames whose raw file never came: cannot record that they failed:"
                      " %s", len(expired), error)
            return
        for record in records:
            log.error("%s: failed: %s", record.name, record.reason)
            self._remember(frame_item(record, None, "failed"))
        self.changed("queue", "counts")

    def _assign_frame(self, worker: WorkerHandle, frame: QueuedFrame, now: float) -> None:
        self.queue.remove(frame.id)
        try:
            record = self.journal.start(frame.id, worker.pid, now)
        except (JournalError, IllegalTransition) as error:
            log.error("%s: cannot start: %s", frame.name, error)
            return
        slot = self.slots.acquire()
        assert slot is not None  # dispatch checked free_count
        worker.send(Job(record.id, str(record.path), slot.to_dict(), record.uniqname,
                        retry=record.attempts > 0 or record.uniqname is not None,
                        deliver=not len(self.backlog)))
        worker.move(WorkerTransition.ASSIGN)
        worker.assignment = Assignment(record.id, record.name, slot, now)
        self.changed("queue", "workers", "counts")

    def _assign_delivery(self, worker: WorkerHandle, frame_id: int, now: float) -> None:
        record = self.journal.get(frame_id)
        self.backlog.begin(frame_id)
        worker.send(DeliverJob(record.id, str(record.processed_path), record.name,
                               record.uniqname or record.name, record.channel.upper()))
        worker.move(WorkerTransition.ASSIGN)
        worker.assignment = Assignment(record.id, record.name, None, now, kind="deliver",
                                       step="deliver", step_started=now)
        self.changed("workers")

    # --- worker messages ----------------------------------------------------------------

    def on_worker_message(self, worker: WorkerHandle, message: Message) -> None:
        try:
            self._handle(worker, message)
        except JournalError as error:
            log.error("journal: %s", error)
        self.wake.set()
        self.dispatch()

    def _handle(self, worker: WorkerHandle, message: Message) -> None:
        job = worker.assignment
        if isinstance(message, LogLine):
            log.log(message.level, "%s", message.message)
        elif isinstance(message, Hello):
            worker.move(WorkerTransition.READY)
            self._respawn_delay = 0.0
            log.info("worker %d started (pid %d)", worker.index, message.pid)
            self.changed("workers")
        elif job is None or getattr(message, "frame_id", job.frame_id) != job.frame_id:
            log.error("worker %d (pid %d): unexpected %s", worker.index, worker.pid,
                      message.kind)
        elif isinstance(message, StepStarted):
            job.step, job.step_started = message.step, self.now()
            self.changed("workers")
        elif isinstance(message, UniqnameReserved):
            self.journal.set_uniqname(job.frame_id, message.uniqname)
        elif isinstance(message, JobDone):
            self._finish(worker)
            (self._delivered_late if job.kind == "deliver" else self._processed)(job, message)
        elif isinstance(message, JobFailed):
            self._finish(worker)
            self._job_failed(job, message)

    def _finish(self, worker: WorkerHandle) -> None:
        job, worker.assignment = worker.assignment, None
        if job is not None and job.slot is not None:
            self.slots.release(job.slot)
        worker.move(WorkerTransition.FINISH)
        worker.frames_done += job is not None and job.kind == "job"
        limit = self.config.workers.recycle_after
        if limit and worker.frames_done >= limit and self.state is not ServiceState.STOPPING:
            log.info("worker %d (pid %d): recycled after %d frames", worker.index, worker.pid,
                     worker.frames_done)
            worker.move(WorkerTransition.RETIRE)
            self._background.add(task := asyncio.ensure_future(stop_worker(worker, grace=10.0)))
            task.add_done_callback(self._background.discard)
        self.changed("workers")

    def _processed(self, job: Assignment, done: JobDone) -> None:
        now = self.now()
        self.waiting.forget(job.frame_id)
        record = self.journal.processed(job.frame_id, done.processed, done.uniqname,
                                        done.timings, len(done.warnings), now)
        if done.delivered:
            record = self.journal.delivered(job.frame_id, done.delivered, now)
            self._note_delivery(record, done)
            return
        if done.delivery_error:
            self.journal.delivery_retry(job.frame_id, done.delivery_error, now)
            log.warning("%s: processed (%s) but not delivered: %s; it waits and is retried",
                        record.name, done.processed, done.delivery_error)
        else:
            log.info("%s: processed (%s); delivery waits behind %d older frames",
                     record.name, done.processed, len(self.backlog))
        self.backlog.add(job.frame_id, record.name, now, done.delivery_error)
        self._remember(frame_item(self.journal.get(job.frame_id), done, "waiting"))
        self.changed("transfers", "counts")

    def _delivered_late(self, job: Assignment, done: JobDone) -> None:
        now = self.now()
        if not done.delivered:
            reason = done.delivery_error or "delivery failed"
            self.backlog.failed(job.frame_id, now, reason)
            self.journal.delivery_retry(job.frame_id, reason, now)
            log.warning("%s: delivery failed again: %s; next try in %.0f s", job.name, reason,
                        self.backlog.next_attempt - now)
        else:
            self.backlog.succeeded(job.frame_id)
            record = self.journal.delivered(job.frame_id, done.delivered, now)
            self._note_delivery(record, done)
        self.changed("transfers", "counts")

    def _note_delivery(self, record, done: JobDone) -> None:
        item = frame_item(record, done, "warning" if done.warnings else "ok")
        self.last_delivered = {"name": record.name, "latency": latency_of(record),
                               "delivered_at": record.delivered_at}
        if done.instrument and done.delivered:
            self.last_by_channel[done.instrument] = Path(done.delivered).name
        self._remember(item)
        log.info("%s: delivered %s (%s; latency %.2f s)", record.name, done.delivered,
                 step_timings(done.timings), item["latency"] or 0.0)

    def _job_failed(self, job: Assignment, failed: JobFailed) -> None:
        now = self.now()
        if failed.cause in ("missing", "incomplete"):
            first = self.waiting.since(job.frame_id, now)
            if not self.waiting.over(first, now):
                self._postpone(job.frame_id, failed.reason, now, first)
                return
            reason = f"{failed.reason} (waited {now - first:.0f} s)"
        else:
            reason = failed.reason
        self.waiting.forget(job.frame_id)
        record = self.journal.failed(job.frame_id, reason, now)
        log.error("%s: failed: %s", record.name, reason)
        self._remember(frame_item(record, None, "failed", timings=failed.timings))
        self.changed("counts")

    def _postpone(self, frame_id: int, reason: str, now: float, first: float) -> None:
        record = self.journal.postpone(frame_id, reason, now)
        self.waiting.postpone(QueuedFrame.from_record(record), reason, now, first)
        self.changed("queue", "counts")

    def _remember(self, item: dict[str, Any]) -> None:
        self.recent.appendleft(item)
        self.frame_finished(item)
        self.changed("health")

    # --- worker lifecycle ---------------------------------------------------------------

    async def spawn_worker(self, index: int) -> None:
        worker = await start_worker(index, self.config.source, self.on_worker_message,
                                    self.on_worker_exit)
        self.workers.append(worker)
        self.changed("workers")

    async def on_worker_exit(self, worker: WorkerHandle) -> None:
        was, job = worker.state, worker.assignment
        worker.move(WorkerTransition.EXIT)
        self.workers.remove(worker)
        if job is not None:
            if job.slot is not None:
                self.slots.release(job.slot)
            reason = worker.exit_reason or (
                f"worker {worker.index} (pid {worker.pid}) {describe_exit(worker.returncode)}"
                f" during {job.step or 'start'}")
            self._lost_job(job, reason)
            self._background.add(task := asyncio.ensure_future(
                sweep(self.config.paths, [job.name], f"by worker pid {worker.pid}")))
            task.add_done_callback(self._background.discard)
        elif was is not WorkerState.STOPPING:
            log.error("worker %d (pid %d) %s", worker.index, worker.pid,
                      describe_exit(worker.returncode))
        self.changed("workers")
        self.wake.set()
        if self.state is not ServiceState.STOPPING:
            if was is WorkerState.STARTING:  # never said hello: do not spin
                self._respawn_delay = min(RESPAWN_DELAY_MAX, 2 * self._respawn_delay or 1.0)
                log.error("worker %d failed to start; next try in %.0f s", worker.index,
                          self._respawn_delay)
                await asyncio.sleep(self._respawn_delay)
            if self.state is not ServiceState.STOPPING:
                await self.spawn_worker(worker.index)
        self.dispatch()

    def _lost_job(self, job: Assignment, reason: str) -> None:
        now = self.now()
        if job.kind == "deliver":
            self.backlog.failed(job.frame_id, now, reason)
            self.journal.delivery_retry(job.frame_id, reason, now)
            log.error("%s: %s; delivery will be tried again", job.name, reason)
        elif self.state is ServiceState.STOPPING:
            self.journal.postpone(job.frame_id, f"service stopped: {reason}", now)
            log.warning("%s: not finished before the stop; kept for the next start", job.name)
        elif self.journal.get(job.frame_id).attempts == 0:
            record = self.journal.requeue(job.frame_id, reason, now)
            self.queue.add(QueuedFrame.from_record(record))
            log.error("%s: %s; retrying once", job.name, reason)
        else:
            record = self.journal.failed(job.frame_id, f"{reason} (second attempt)", now)
            log.error("%s: failed: %s (second attempt)", job.name, reason)
            self._remember(frame_item(record, None, "failed"))
        self.changed("queue", "counts", "transfers")

    # --- time ---------------------------------------------------------------------------

    def tick(self) -> None:
        """Periodic duties: job time limits, postponed frames, backoff, the night's end."""
        now = self.now()
        limit = self.config.workers.job_timeout
        for worker in self.workers:
            job = worker.assignment
            if job and worker.state is WorkerState.BUSY and now - job.started > limit:
                worker.exit_reason = (f"time limit of {limit:.0f} s exceeded during "
                                      f"{job.step or 'start'} (worker pid {worker.pid} killed)")
                kill(worker)
        night = self.observing_date()
        if night != self.night:
            self.log_summary(self.night)
            self.night = night
        self.dispatch()

    def observing_date(self) -> str:
        return observing_date(datetime.fromtimestamp(self.now(), UTC),
                              self.config.site.utc_offset)

    def log_summary(self, night: str, *, partial: bool = False) -> None:
        log_night_summary(self.journal, night, self.config.site.utc_offset, partial=partial)

    # --- stop ---------------------------------------------------------------------------

    async def stop(self) -> None:
        """Finish frames in progress (bounded by stopTimeout), then stop every worker."""
        self.state = ServiceState.STOPPING
        self.changed("service")
        deadline = self.now() + self.config.service.stop_timeout
        while any(w.state is WorkerState.BUSY for w in self.workers) and self.now() < deadline:
            self.wake.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), 0.2)
        busy = [w.assignment.name for w in self.workers if w.assignment]
        if busy:
            log.warning("stop: %s still in progress after %.0f s; stopping anyway",
                        ", ".join(busy), self.config.service.stop_timeout)
        await stop_all(self.workers, grace=2.0)
        self.log_summary(self.observing_date(), partial=True)
