"""The supervisor's in-memory work queue, mirroring the journal's QUEUED frames.

Dispatch order: live requests (datagram, console) before catch-up frames (the
raw-folder scan's finds and the frames queued again at a start), then request
order, so a catch-up never delays target acquisition; how many workers catch-up
frames may take is :mod:`dataman.service.live_reserve`'s rule. A frame whose
raw file is missing or still being written is postponed (``not_before``)
instead of holding a worker while it waits, and once it has waited it goes
behind frames not tried yet: a flood of requests for files that never come
cannot starve a live frame whose file is there.

The queue may hold thousands of frames (a burst, a flood of requests for
files that do not exist), so every operation the supervisor does per event is
O(log n): two heaps with lazy deletion, one of frames ready by their order and
one of postponed frames by ``not_before``.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from pathlib import Path

from dataman.ipc.states import Source
from dataman.service.records import FrameRecord


@dataclass(frozen=True)
class FrameRequest:
    """Someone asks for a frame: ``origin`` (sender, "scan", "console") is for the log."""

    name: str
    channel: str
    path: Path
    source: Source
    origin: str


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
    #: Queued again at the supervisor's start (left by a stopped or dead service): catch-up.
    requeued: bool = False
    entry: int = field(default=-1, repr=False, compare=False)  # its current heap entry

    @classmethod
    def from_record(cls, record: FrameRecord, *, requeued: bool = False) -> QueuedFrame:
        return cls(record.id, record.name, record.channel, record.path, record.source,
                   record.requested_at, record.attempts, record.uniqname, requeued=requeued)

    @property
    def catch_up(self) -> bool:
        """Not a live request: a scan find, or queued again at a start."""
        return self.source is Source.SCAN or self.requeued

    @property
    def order(self) -> tuple[int, int, int]:
        """Live before catch-up, not yet tried before waiting for its file, then request
        order."""
        return (self.catch_up, self.waiting_since is not None, self.id)


class FrameQueue:
    """Frames waiting for a worker; ``next_ready`` picks the first one allowed to run."""

    def __init__(self) -> None:
        self._frames: dict[int, QueuedFrame] = {}
        self._ready: list[tuple[tuple[int, int, int], int, QueuedFrame]] = []
        self._later: list[tuple[float, int, QueuedFrame]] = []
        self._entries = itertools.count()
        #: Frames queued again at a start stay catch-up when they are queued anew (after a
        #: worker's death, a postponement) until a live request names them.
        self._requeued: set[int] = set()

    def __len__(self) -> int:
        return len(self._frames)

    def __contains__(self, frame_id: int) -> bool:
        return frame_id in self._frames

    def add(self, frame: QueuedFrame) -> None:
        """Queue ``frame`` (replacing an entry of the same id)."""
        if frame.requeued:
            self._requeued.add(frame.id)
        elif frame.id in self._requeued:
            frame.requeued = True
        self._frames[frame.id] = frame
        frame.entry = next(self._entries)
        if frame.not_before > 0:
            heapq.heappush(self._later, (frame.not_before, frame.entry, frame))
        else:
            heapq.heappush(self._ready, (frame.order, frame.entry, frame))
        self._compact()

    def promote(self, frame_id: int, source: Source) -> None:
        """A scan find whose datagram came late, or a frame queued again at a start that a
        live request names, is live after all: move it up."""
        frame = self._frames.get(frame_id)
        if frame is None or source is Source.SCAN:
            return
        self._requeued.discard(frame_id)
        if frame.source is not source or frame.requeued:
            frame.source, frame.requeued = source, False
            self.add(frame)

    def remove(self, frame_id: int) -> QueuedFrame | None:
        return self._frames.pop(frame_id, None)  # its heap entries die lazily

    def next_ready(self, now: float) -> QueuedFrame | None:
        while self._later and self._later[0][0] <= now:
            _, entry, frame = heapq.heappop(self._later)
            if self._current(entry, frame):
                heapq.heappush(self._ready, (frame.order, entry, frame))
        while self._ready:
            _, entry, frame = self._ready[0]
            if self._current(entry, frame):
                return frame
            heapq.heappop(self._ready)
        return None

    def ordered(self, limit: int | None = None) -> list[QueuedFrame]:
        """Waiting frames in dispatch order (postponed ones where their order puts them)."""
        if limit is None:
            return sorted(self._frames.values(), key=lambda frame: frame.order)
        return heapq.nsmallest(limit, self._frames.values(), key=lambda frame: frame.order)

    def _current(self, entry: int, frame: QueuedFrame) -> bool:
        return self._frames.get(frame.id) is frame and frame.entry == entry

    def _compact(self) -> None:
        """Drop dead entries once they outnumber the live ones (bounded memory)."""
        if len(self._ready) + len(self._later) > 2 * len(self._frames) + 64:
            self._ready = [item for item in self._ready if self._current(item[1], item[2])]
            self._later = [item for item in self._later if self._current(item[1], item[2])]
            heapq.heapify(self._ready)
            heapq.heapify(self._later)
