"""The supervisor's in-memory work queue, mirroring the journal's QUEUED frames.

Dispatch order is the journal's: live requests (datagram, console) before the
raw-folder scan's finds, then request order, so a catch-up never delays target
acquisition. A frame whose raw file is missing or still being written is
postponed (``not_before``) instead of holding a worker while it waits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dataman.service.records import FrameRecord, Source


@dataclass
class QueuedFrame:
    id: int
    name: str
    channel: str
    path: Path
    source: Source
    requested_at: float
    attempts: int = 0
    uniqname: str | None = None
    not_before: float = 0.0  # postponed until then (raw file not there yet)
    waiting_since: float | None = None  # first postponement, for the waitForWrite limit
    reason: str | None = None

    @classmethod
    def from_record(cls, record: FrameRecord) -> QueuedFrame:
        return cls(record.id, record.name, record.channel, record.path, record.source,
                   record.requested_at, record.attempts, record.uniqname)

    @property
    def priority(self) -> int:
        return self.source.priority

    @property
    def order(self) -> tuple[int, int]:
        return (self.priority, self.id)


class FrameQueue:
    """Frames waiting for a worker; ``next_ready`` picks the first one allowed to run."""

    def __init__(self) -> None:
        self._frames: dict[int, QueuedFrame] = {}

    def __len__(self) -> int:
        return len(self._frames)

    def __contains__(self, frame_id: int) -> bool:
        return frame_id in self._frames

    def add(self, frame: QueuedFrame) -> None:
        self._frames[frame.id] = frame

    def get(self, frame_id: int) -> QueuedFrame | None:
        return self._frames.get(frame_id)

    def remove(self, frame_id: int) -> QueuedFrame | None:
        return self._frames.pop(frame_id, None)

    def next_ready(self, now: float) -> QueuedFrame | None:
        ready = [frame for frame in self._frames.values() if frame.not_before <= now]
        return min(ready, key=lambda frame: frame.order, default=None)

    def ordered(self) -> list[QueuedFrame]:
        """Every waiting frame in dispatch order (postponed ones where their order puts them)."""
        return sorted(self._frames.values(), key=lambda frame: frame.order)

    def next_wakeup(self, now: float) -> float | None:
        """When the earliest postponed frame may run again, if any is postponed."""
        return min((f.not_before for f in self._frames.values() if f.not_before > now),
                   default=None)
