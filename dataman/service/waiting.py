"""Frames whose raw file is not there yet (delayed NFS) or still being written.

Such a frame is postponed, looked at again after a pause that grows with its
wait (0.25 s, then half the time waited, at most ``MAX_POSTPONE``), and fails
with its reason once it has waited ``waitForWrite``. Whether the file exists
at all is checked here, with one ``stat``, before any worker is involved: a
flood of requests for files that never come costs no worker time and no
journal write per look, and never delays a frame whose file is there. A file
that exists but is incomplete is the worker's to find out (it reads it).
"""

from __future__ import annotations

import logging
import os

from dataman.service.queue import FrameQueue, QueuedFrame

log = logging.getLogger("dataman")
MAX_POSTPONE = 5.0  # longest pause between looks at a raw file that is not complete yet


class RawFileWait:
    """Since when each waiting frame waits, and those that waited too long (to fail)."""

    def __init__(self, queue: FrameQueue, limit: float) -> None:
        self._queue, self._limit = queue, limit
        self._since: dict[int, float] = {}
        self._expired: list[tuple[int, str]] = []

    def since(self, frame_id: int, now: float) -> float:
        """When the frame first had to wait (``now`` if it starts waiting now)."""
        return self._since.setdefault(frame_id, now)

    def over(self, first: float, now: float) -> bool:
        return now - first >= self._limit

    def forget(self, frame_id: int) -> None:
        self._since.pop(frame_id, None)

    def there(self, frame: QueuedFrame, now: float) -> bool:
        """True if the raw file exists; else the frame waits in the queue or expires."""
        if os.path.exists(frame.path):
            return True
        reason = f"{frame.name}: not found ({frame.path})"
        first = self.since(frame.id, now)
        self._queue.remove(frame.id)
        if self.over(first, now):
            self.forget(frame.id)
            self._expired.append((frame.id, f"{reason} (waited {now - first:.0f} s)"))
        else:
            self.postpone(frame, reason, now, first)
        return False

    def postpone(self, frame: QueuedFrame, reason: str, now: float, first: float) -> None:
        """Queue ``frame`` again for a later look, behind frames not tried yet."""
        if first == now:
            log.info("%s: waiting for the raw file: %s", frame.name, reason)
        frame.waiting_since, frame.reason = first, reason
        frame.not_before = now + min(MAX_POSTPONE, 0.25 + (now - first) / 2)
        self._queue.add(frame)

    def take_expired(self) -> list[tuple[int, str]]:
        """(frame id, reason) of frames that waited too long, each returned once."""
        expired, self._expired = self._expired, []
        return expired
