"""Processing held while procDir (or stateDir) cannot be written: a full or failing disk.

A frame whose outputs cannot be written because the disk is full, over quota,
stale or failing (:mod:`dataman.core.diskfaults`) is not bad: it goes back to
its place in the queue (no attempt counted) and the service stops starting
frames for a pause, then tries one frame, the first in the queue. While that
one fails too, the pause doubles, from ``FIRST_DELAY`` up to
``deliveryRetryMax`` (the staging disk's backoff); the first frame that is
written ends the stall and every frame behind it goes at once. So a full disk
costs one frame's processing per pause, never a burst of failures, and nobody
has to press ``r`` when space returns.

While it lasts, :attr:`ProcessingStall.problem` is what the health line and
the console say: ``processing stalled: <folder>: No space left on device``.
"""

from __future__ import annotations

import logging

log = logging.getLogger("dataman")
FIRST_DELAY = 1.0


class ProcessingStall:
    """Whether frames may start now, and why not; one probe frame at a time."""

    def __init__(self, max_delay: float) -> None:
        self._max_delay = max_delay
        self.delay = FIRST_DELAY
        self.next_attempt = 0.0
        self.reason: str | None = None
        self.since: float | None = None
        self.probe: int | None = None  # the frame trying the disk now

    @property
    def problem(self) -> str | None:
        """The health line's phrase while stalled, else None: the cause before the folder
        (``No space left on device in /data/proc/20251230``), the line may be cut short."""
        if self.reason is None:
            return None
        folder, _, why = self.reason.partition(": ")
        return f"processing stalled: {why} in {folder}" if why else \
            f"processing stalled: {self.reason}"

    def allows_start(self, now: float) -> bool:
        """True unless stalled, in which case one frame may try once the pause is over."""
        return self.reason is None or (self.probe is None and now >= self.next_attempt)

    def started(self, frame_id: int) -> None:
        """A frame was given to a worker: while stalled, it is the one probing the disk."""
        if self.reason is not None:
            self.probe = frame_id

    def stalled(self, frame_id: int, reason: str, now: float) -> float:
        """A frame could not be written (``reason``); returns the pause before the next try.

        Frames that were already running when the disk filled report it too: only
        the first report, or the probe's, lengthens the pause.
        """
        first = self.reason is None
        if first or frame_id == self.probe:
            self.next_attempt = now + self.delay
            self.delay = min(2 * self.delay, self._max_delay)
        if first:
            self.since = now
            log.error("processing stalled: %s; frames wait in the queue and are tried again",
                      reason)
        self.reason = reason
        if frame_id == self.probe:
            self.probe = None
        return max(0.0, self.next_attempt - now)

    def ended(self, frame_id: int, now: float, *, written: bool) -> None:
        """A frame's job ended otherwise: ``written`` (its processed file is on disk)
        ends the stall; a frame that failed for its own reasons frees the probe."""
        if frame_id == self.probe:
            self.probe = None
        if written and self.reason is not None:
            log.info("processing resumed: outputs written again after %.0f s (%s)",
                     now - (self.since or now), self.reason)
            self.reason, self.since, self.delay, self.next_attempt = None, None, FIRST_DELAY, 0.0
