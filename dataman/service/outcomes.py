"""What became of each job: recorded in the journal, logged, and kept for the console.

A worker's answer (``JobDone``, ``JobFailed``) or its death ends a job; so does a
raw file that never came. :class:`Outcomes` turns each ending into the journal
transition it stands for, hands an undelivered frame to the delivery backlog or
a missing raw file to the wait, writes the operator's log line, and keeps the
last frames (``recent``, control protocol) for the console, one entry per frame:
its latest outcome (a frame that waited for repoDir and was then delivered, or
failed and was retried, is listed once, as it ended last)::

    JobDone ──▶ delivered, or processed and waiting in the backlog
                (shadow mode: processed, and that is where it ends)
    JobFailed ─▶ postponed (raw file missing/incomplete: RawFileWait decides)
               ├▶ back in its place in the queue (disk full or failing: ProcessingStall)
               └▶ failed (bad frame, or the raw file waited too long)
    worker died ─▶ queued again once, then failed (a delivery: tried again later)

The :class:`Supervisor` owns one :class:`Outcomes`; it frees the worker and its
slot first and dispatches afterwards. The functions below describe a finished
frame the same way for the console, the log and ``dataman demo``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dataman.core.names import exposure_order, without_name
from dataman.core.quality.report import QualityReport
from dataman.core.timings import format_step_timings
from dataman.ipc.jobs import Cause, JobKind
from dataman.ipc.protocol_snapshot import FrameEntry, LastDelivered, QualityFinding
from dataman.ipc.states import Result
from dataman.service.journal import IllegalTransition, JournalError
from dataman.service.queue import QueuedFrame
from dataman.service.stall import ProcessingStall

if TYPE_CHECKING:  # annotations only
    from dataman.ipc.jobs import JobDone, JobFailed
    from dataman.service.backlog import DeliveryBacklog
    from dataman.service.journal import Journal
    from dataman.service.queue import FrameQueue
    from dataman.service.records import FrameRecord
    from dataman.service.waiting import RawFileWait
    from dataman.service.worker_process import Assignment

log = logging.getLogger("dataman")
#: Finished frames kept for the console's ``recent`` list.
RECENT_MAX = 100


class Outcomes:
    """Records how each job ended and remembers the last frames for the console.

    ``changed(*sections)`` says which snapshot sections moved; ``finished(item)``
    publishes a frame's ``recent`` item the moment it is known.
    """

    def __init__(self, journal: Journal, queue: FrameQueue, backlog: DeliveryBacklog,
                 waiting: RawFileWait, *, changed: Callable[..., None],
                 finished: Callable[[FrameEntry], None],
                 stall: ProcessingStall | None = None, shadow: bool = False) -> None:
        self.journal, self.queue, self.backlog, self.waiting = journal, queue, backlog, waiting
        self.stall = stall or ProcessingStall(backlog.max_delay)
        #: Shadow mode (``[service] deliver = False``): "processed" is where a frame ends.
        self.shadow = shadow
        self._recent: dict[str, FrameEntry] = {}  # by frame name, oldest outcome first
        self.last_delivered: LastDelivered | None = None
        self.last_by_channel: dict[str, str] = {}
        self._newest_raw: dict[str, tuple[str, int]] = {}
        self._changed, self._finished = changed, finished

    @property
    def recent(self) -> list[FrameEntry]:
        """The last frames finished, newest first, each frame once with its latest outcome."""
        return list(reversed(self._recent.values()))

    def done(self, job: Assignment, done: JobDone, now: float) -> None:
        """A job ended with ``JobDone``: a frame job, or a delivery from the backlog."""
        (self._delivered_late if job.kind == JobKind.DELIVER else self._processed)(job, done, now)

    def failed(self, job: Assignment, failed: JobFailed, now: float) -> None:
        """A job failed: a raw file not there or not complete yet waits (or, having
        waited waitForWrite, fails as every raw file that never came), a frame that met
        a full or failing disk keeps its place while processing stalls, others fail."""
        if failed.cause == Cause.STALLED:
            self._stalled(job, failed, now)
            return
        self.stall.ended(job.frame_id, now, written=False)
        if failed.cause in (Cause.MISSING, Cause.INCOMPLETE):
            self.waiting.not_ready(job.frame_id, failed.reason, now)
            self.fail_expired(now)
            self._changed("queue", "counts")
            return
        self.waiting.forget(job.frame_id)
        record = self.journal.failed(job.frame_id, failed.reason, now,
                                     detail=failed.detail or None)
        log.error("%s: failed: %s", record.name, without_name(failed.reason, record.name))
        self._remember(frame_item(record, None, Result.FAILED, timings=failed.timings))
        self._changed("counts")

    def _stalled(self, job: Assignment, failed: JobFailed, now: float) -> None:
        """Back to its place in the queue, no attempt counted; no frame starts for a pause."""
        self.waiting.forget(job.frame_id)
        disk = failed.reason.removeprefix(f"{job.name}: cannot write: ")
        pause = self.stall.stalled(job.frame_id, disk, now)
        record = self.journal.postpone(job.frame_id, failed.reason, now)
        frame = QueuedFrame.from_record(record)
        frame.reason = f"processing stalled: {disk}"
        self.queue.add(frame)
        log.warning("%s: not written: %s; kept in the queue, next try in %.0f s", job.name,
                    disk, pause)
        self._changed("queue", "counts", "health")

    def lost(self, job: Assignment, reason: str, now: float, *, stopping: bool) -> None:
        """The worker died during ``job``: a frame is queued again once, then fails.

        A delivery is tried again later; a frame lost to the stop is kept for the
        next start, not counted as an attempt.
        """
        self.stall.ended(job.frame_id, now, written=False)
        if job.kind == JobKind.DELIVER:
            self.backlog.failed(job.frame_id, now, reason)
            self.journal.delivery_retry(job.frame_id, reason, now)
            log.error("%s: %s; delivery will be tried again", job.name, reason)
        elif stopping:
            self.journal.postpone(job.frame_id, f"service stopped: {reason}", now)
            log.warning("%s: not finished before the stop; kept for the next start", job.name)
        elif self.journal.get(job.frame_id).attempts == 0:
            record = self.journal.requeue(job.frame_id, reason, now)
            self.queue.add(QueuedFrame.from_record(record))
            log.error("%s: %s; retrying once", job.name, reason)
        else:
            record = self.journal.failed(job.frame_id, f"{reason} (second attempt)", now)
            log.error("%s: failed: %s (second attempt)", job.name, reason)
            self._remember(frame_item(record, None, Result.FAILED))
        self._changed("queue", "counts", "transfers")

    def fail_expired(self, now: float) -> None:
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
            log.error("%s: failed: %s", record.name, without_name(record.reason or "", record.name))
            self._remember(frame_item(record, None, Result.FAILED))
        self._changed("queue", "counts")

    def _processed(self, job: Assignment, done: JobDone, now: float) -> None:
        """A frame job ended: delivered, or processed and waiting to be delivered."""
        self.waiting.forget(job.frame_id)
        self.stall.ended(job.frame_id, now, written=True)
        record = self.journal.processed(job.frame_id, done.processed, done.uniqname,
                                        done.timings, len(done.warnings), now,
                                        delivered_path=done.delivered, facts=done.facts,
                                        quality=done.quality, output_size=done.output_size)
        self._changed("setups")  # one more frame of its setup tonight
        if done.delivered:
            self._note_delivery(record, done)
            return
        if self.shadow:
            self._remember(frame_item(record, done, _delivered(done)))
            log.info("%s: processed %s, not delivered (shadow) (%s)", record.name,
                     done.processed, format_step_timings(done.timings))
            self._changed("counts")
            return
        if done.delivery_error:
            self.journal.delivery_retry(job.frame_id, done.delivery_error, now)
            log.warning("%s: processed (%s) but not delivered: %s; it waits and is retried",
                        record.name, done.processed, done.delivery_error)
        else:
            log.info("%s: processed (%s); delivery waits behind %d older frames",
                     record.name, done.processed, len(self.backlog))
        self.backlog.add(job.frame_id, record.name, now, done.delivery_error)
        self._remember(frame_item(self.journal.get(job.frame_id), done, Result.WAITING))
        self._changed("transfers", "counts")

    def _delivered_late(self, job: Assignment, done: JobDone, now: float) -> None:
        """A delivery job from the backlog ended: delivered, or retried after a pause."""
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
        self._changed("transfers", "counts")

    def _note_delivery(self, record: FrameRecord, done: JobDone) -> None:
        item = frame_item(record, done, _delivered(done))
        self.last_delivered = LastDelivered(record.name, latency_of(record),
                                            record.delivered_at)
        if done.instrument and done.delivered and self._is_newest(done.instrument, record.name):
            self.last_by_channel[done.instrument] = Path(done.delivered).name
        self._remember(item)
        log.info("%s: delivered %s (%s; latency %.2f s)", record.name, done.delivered,
                 format_step_timings(done.timings), item.latency or 0.0)

    def _is_newest(self, instrument: str, raw_name: str) -> bool:
        """Whether ``raw_name`` is the newest exposure delivered on its channel so far
        (what ``<CHAN>.new`` names: an older frame delivered late does not count)."""
        newest = self._newest_raw.get(instrument)
        order = exposure_order(raw_name)
        if newest is not None and order is not None and order < newest:
            return False
        if order is not None:
            self._newest_raw[instrument] = order
        return True

    def _remember(self, item: FrameEntry) -> None:
        """Keep ``item`` as its frame's outcome (replacing an earlier one) and publish it."""
        self._recent.pop(item.name, None)  # re-inserted: it moves to the newest end
        self._recent[item.name] = item
        while len(self._recent) > RECENT_MAX:
            del self._recent[next(iter(self._recent))]
        self._finished(item)
        self._changed("health")


def _delivered(done: JobDone) -> Result:
    """A frame that reached the end of its way (delivered, or processed in shadow mode)."""
    return Result.WARNING if done.warnings else Result.OK


def latency_of(record: FrameRecord) -> float | None:
    """Seconds from the first request to the verified copy in repoDir."""
    if record.delivered_at is None:
        return None
    return record.delivered_at - record.requested_at


def frame_item(record: FrameRecord, done: JobDone | None, result: Result, *,
               timings: dict[str, float] | None = None) -> FrameEntry:
    """One ``recent`` entry (control protocol): the frame's facts as the journal has them,
    how it ended, its outputs, step times and quality."""
    # The journal's facts (written from the worker's answer, kept through a late delivery,
    # whose job reads no header); a failed frame shows no readout, as the journal may still
    # hold an earlier run's.
    facts = (replace(record.facts, roi="", binning="") if result == Result.FAILED
             else record.facts)
    return FrameEntry(
        **vars(facts),
        name=record.name,
        instrument=(done.instrument if done else None) or record.channel.upper(),
        timings=dict(done.timings if done else timings or record.timings),
        latency=latency_of(record),
        processed=_text(record.processed_path) or (done.processed if done else None),
        delivered=_text(record.delivered_path),
        result=result,
        reason=record.reason if result in (Result.FAILED, Result.WAITING) else None,
        warnings=tuple(done.warnings) if done else (),
        finished_at=record.changed_at,
        # A failed frame has no verdict (the journal may still hold an earlier run's).
        **quality_fields(None if result == Result.FAILED else quality_of(record, done)),
    )


def quality_of(record: FrameRecord, done: JobDone | None) -> QualityReport | None:
    """The frame's quality report: the journal's (kept through a late delivery, whose
    job carries none), else the worker's; None when the frame was not checked."""
    if record.qc is not None:
        try:
            return QualityReport.from_dict(record.qc)
        except ValueError as error:
            log.warning("%s: quality values in the journal not readable: %s", record.name,
                        error)
    return done.quality if done is not None else None


def quality_fields(quality: QualityReport | None) -> dict[str, Any]:
    """The ``qc_*`` fields of a ``recent`` entry; none (their defaults) when not checked."""
    if quality is None:
        return {}
    return {"qc_status": quality.status, "qc_flags": quality.flags,
            "qc_findings": tuple(QualityFinding(item.flag, item.reason)
                                 for item in quality.findings),
            "qc_bias": {amp.amp: amp.bias for amp in quality.amps},
            "qc_noise": {amp.amp: amp.noise for amp in quality.amps},
            "qc_saturated": {amp.amp: amp.saturated for amp in quality.amps}}


def _text(path: Path | None) -> str | None:
    return str(path) if path is not None else None
