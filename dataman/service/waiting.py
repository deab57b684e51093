"""Frames whose raw file is not there yet (delayed NFS) or still being written.

The one component that decides about them, wherever it is found out: at the
request (:class:`~dataman.service.intake.Intake`) and before a frame is given to
a worker (dispatch), both with one ``stat`` (:meth:`RawFileWait.there`), or by
the worker that read it (:meth:`RawFileWait.not_ready`: missing after all, or
incomplete). Either way the frame waits in the queue, looked at again after a
pause that grows with its wait (0.25 s, then half the time waited, at most
``MAX_POSTPONE``), and once it has waited ``waitForWrite`` it is handed out by
:meth:`RawFileWait.take_expired` and failed with its reason through the one
journal path, ``Journal.expire``. A flood of requests for files that never
come costs no worker time and no journal write per look, and never delays a
frame whose file is there.

What it knows of a waiting frame: since when it waits (here), and its pause and
reason (on its :class:`~dataman.service.queue.QueuedFrame`, for the console).
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from dataman.service.queue import FrameQueue, QueuedFrame

if TYPE_CHECKING:  # annotations only
    from dataman.service.journal import Journal

log = logging.getLogger("dataman")
MAX_POSTPONE = 5.0  # longest pause between looks at a raw file that is not complete yet


class RawFileWait:
    """Since when each waiting frame waits, and those that waited too long (to fail)."""

    def __init__(self, journal: Journal, queue: FrameQueue, limit: float) -> None:
        self._journal, self._queue, self._limit = journal, queue, limit
        self._since: dict[int, float] = {}
        self._expired: list[tuple[int, str]] = []

    def there(self, frame: QueuedFrame, now: float) -> bool:
        """True if the raw file exists; else the frame waits in the queue or expires."""
        if os.path.exists(frame.path):
            return True
        self._wait(frame, f"{frame.name}: not found ({frame.path})", now)
        return False

    def not_ready(self, frame_id: int, reason: str, now: float) -> None:
        """The worker found the raw file missing or incomplete (``reason``): the frame
        goes back to the queue (journaled, no attempt counted) to wait, or expires."""
        record = self._journal.postpone(frame_id, reason, now)
        self._wait(QueuedFrame.from_record(record), reason, now)

    def forget(self, frame_id: int) -> None:
        """The frame ended otherwise (processed, failed): it waits no more."""
        self._since.pop(frame_id, None)

    def take_expired(self) -> list[tuple[int, str]]:
        """(frame id, reason) of frames that waited too long, each returned once."""
        expired, self._expired = self._expired, []
        return expired

    def _wait(self, frame: QueuedFrame, reason: str, now: float) -> None:
        first = self._since.setdefault(frame.id, now)
        self._queue.remove(frame.id)
        if now - first >= self._limit:
            self.forget(frame.id)
            self._expired.append((frame.id, f"{reason} (waited {now - first:.0f} s)"))
            return
        if first == now:
            log.info("%s: waiting for the raw file: %s", frame.name, reason)
        frame.waiting_since, frame.reason = first, reason
        frame.not_before = now + min(MAX_POSTPONE, 0.25 + (now - first) / 2)
        self._queue.add(frame)
