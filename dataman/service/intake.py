"""Requests become journaled, queued frames, each frame at most once.

A request is journaled before anything else happens to it, so a frame asked for
survives a crash of the service. Several requests arriving together (a burst of
datagrams, a scan's finds) share one journal transaction and so one disk sync.
A frame the journal already knows is not run again: a scan find that a live
request names is promoted ahead of the other scan finds, and any other repeat
is only logged, and then only once in a while (:class:`RepeatedRequests`), so a
flood of the same datagram cannot fill the log. A new frame whose raw file is
not there yet waits for it (:class:`RawFileWait`) instead of taking the queue.

The :class:`Supervisor` owns one :class:`Intake` and dispatches after each call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from dataman.ipc.protocol_events import FrameRefused
from dataman.ipc.states import FrameState, Source
from dataman.service.journal import Journal, JournalError
from dataman.service.queue import FrameQueue, FrameRequest, QueuedFrame
from dataman.service.records import FrameRecord
from dataman.service.refusals import Refusals
from dataman.service.repeats import RepeatedRequests
from dataman.service.waiting import RawFileWait

log = logging.getLogger("dataman")


class Intake:
    """Journals requests and queues the frames they name; logs repeats sparingly."""

    def __init__(self, journal: Journal, queue: FrameQueue, waiting: RawFileWait, *,
                 refused: Callable[[FrameRefused], None] = lambda event: None) -> None:
        self.journal, self.queue, self.waiting = journal, queue, waiting
        #: Told of every request not acted on, for the console and the demo (an event,
        #: not only a log line, which is written only once in a while for repeats).
        self._refused = refused
        self._repeats = RepeatedRequests()
        self.refusals = Refusals()

    def take(self, requests: list[FrameRequest], now: float) -> bool:
        """Journal ``requests`` in one transaction, then queue the new frames.

        False if the journal refused them: each is then logged as not recorded
        and none is queued, since a frame the journal does not hold could not
        be accounted for.
        """
        try:
            answers = self.journal.request_many(
                [(r.name, r.path, r.channel, r.source) for r in requests], now)
        except JournalError as error:
            self.refusals.refused(len(requests), str(error.__cause__ or error), now,
                                  where=str(self.journal.path))
            for request in requests:
                log.error("%s: request from %s NOT recorded: %s", request.name,
                          request.origin, error)
                self._refused(FrameRefused(request.name, request.origin,
                                           f"NOT recorded: {error}"))
            return False
        self.refusals.recorded(now)
        for request, answer in zip(requests, answers, strict=True):
            self._take_one(request, answer.record, answer.is_new, now)
        return True

    def _take_one(self, request: FrameRequest, record: FrameRecord, is_new: bool,
                  now: float) -> None:
        name, origin = request.name, request.origin
        if is_new:
            log.info("%s: requested by %s (%d queued)", name, origin, len(self.queue) + 1)
            frame = QueuedFrame.from_record(record)
            if self.waiting.there(frame, now):  # else it waits behind frames that are there
                self.queue.add(frame)
        elif record.state is FrameState.QUEUED and record.id in self.queue:
            if request.source is not Source.SCAN:  # a catch-up frame, live after all
                self.queue.promote(record.id, record.source)
        elif request.source is not Source.SCAN:
            where = record.delivered_path or record.processed_path or ""
            self._refused(FrameRefused(name, origin, f"already {record.state} {where}".rstrip()
                                       + "; not processed again"))
            if self._repeats.should_log(name, now):
                more = self._repeats.suppressed(name)
                log.info("%s: requested by %s, already %s %s; not processed again%s",
                         name, origin, record.state, where,
                         f" ({more} more such requests not logged)" if more else "")

    def retry(self, name: str, now: float) -> None:
        """Queue a failed frame again (``UnknownFrame``/``IllegalTransition`` if it cannot be)."""
        record = self.journal.retry(name, now)
        self.queue.add(QueuedFrame.from_record(record))
        log.info("%s: retry requested from the console", name)
