"""Processed frames waiting for the staging disk, delivered in order with backoff.

When ``repoDir`` is missing, read-only or full, a processed frame stays in
procDir and joins this backlog. Only the oldest is tried, one at a time, first
after ``FIRST_DELAY`` and then after twice the previous pause up to the
configured cap; when it succeeds the next one goes at once. While the backlog
is not empty the supervisor asks workers not to deliver new frames themselves,
so the staging disk receives frames in the order they were requested.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

FIRST_DELAY = 1.0


@dataclass(order=True)
class Waiting:
    frame_id: int
    name: str


class DeliveryBacklog:
    def __init__(self, max_delay: float) -> None:
        self._waiting: list[Waiting] = []
        self.max_delay = max_delay
        self.delay = FIRST_DELAY
        self.next_attempt = 0.0
        self.in_flight: int | None = None
        self.reason: str | None = None  # why the last attempt failed

    def __len__(self) -> int:
        return len(self._waiting)

    def __contains__(self, frame_id: int) -> bool:
        return any(item.frame_id == frame_id for item in self._waiting)

    @property
    def names(self) -> list[str]:
        return [item.name for item in self._waiting]

    def add(self, frame_id: int, name: str, now: float, reason: str | None = None) -> None:
        """A frame that could not be delivered (``reason``) or was held back to keep order."""
        if frame_id in self:
            return
        bisect.insort(self._waiting, Waiting(frame_id, name))
        if reason is not None:
            self._back_off(now, reason)

    def due(self, now: float) -> Waiting | None:
        """The oldest frame, when it is time for an attempt and none is under way."""
        if self._waiting and self.in_flight is None and now >= self.next_attempt:
            return self._waiting[0]
        return None

    def begin(self, frame_id: int) -> None:
        self.in_flight = frame_id

    def succeeded(self, frame_id: int) -> None:
        self._waiting = [item for item in self._waiting if item.frame_id != frame_id]
        self.in_flight, self.delay, self.next_attempt, self.reason = None, FIRST_DELAY, 0.0, None

    def failed(self, frame_id: int, now: float, reason: str) -> None:
        if self.in_flight == frame_id:
            self.in_flight = None
        self._back_off(now, reason)

    def _back_off(self, now: float, reason: str) -> None:
        self.reason = reason
        self.next_attempt = now + self.delay
        self.delay = min(self.delay * 2, self.max_delay)
