"""The console's view of the service: a snapshot, then kept current by events.

Pure Python, no Textual: :class:`ServiceView` applies the ``subscribe`` reply
and each event of the control protocol (decoded: ``dataman.ipc.protocol_events``) and
answers what the panels ask (state, uptime, latencies, the selected frame,
the log at a level). Every method that depends on the time takes ``now``.

>>> view = ServiceView()
>>> view.state
'disconnected'
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from dataman.ipc.protocol_events import EVENTS, Dropped, Event, FrameFinished, LogAppended
from dataman.ipc.protocol_snapshot import (
    Counts,
    FrameEntry,
    HealthInfo,
    LastDelivered,
    LogEntry,
    QualityBand,
    QueueEntry,
    ServiceInfo,
    SetupEntry,
    Snapshot,
    Transfers,
    WorkerEntry,
)
from dataman.ipc.states import Result

#: Snapshot sections that a replaceable event of the same name replaces whole.
REPLACEABLE = frozenset(kind for kind, cls in EVENTS.items() if cls.replaceable)
#: Log levels, lowest first; the console filters "this level and above".
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MAX_RECENT = 100
MAX_LOG = 500


@dataclass
class ServiceView:
    """Everything the console shows, as the service last described it (sections are
    None before the first snapshot)."""

    connected: bool = False
    reason: str = "not connected yet"
    service: ServiceInfo | None = None
    counts: Counts | None = None
    queue: tuple[QueueEntry, ...] = ()
    workers: tuple[WorkerEntry, ...] = ()
    recent: list[FrameEntry] = field(default_factory=list)
    transfers: Transfers | None = None
    log: deque[LogEntry] = field(default_factory=lambda: deque(maxlen=MAX_LOG))
    last: LastDelivered | None = None
    health: HealthInfo | None = None
    #: The configured quality bands by instrument (read at the service's start).
    quality_bands: dict[str, QualityBand] = field(default_factory=dict)
    #: Tonight's setup checklist (each setup with science and its calibrations).
    setups: tuple[SetupEntry, ...] = ()
    dropped: int = 0
    attempts: int = 0

    def attach(self, snapshot: Snapshot) -> None:
        """Replace everything with a fresh snapshot (on connect and on every reconnect)."""
        self.connected, self.reason, self.attempts = True, "", 0
        for name in REPLACEABLE:
            setattr(self, name, getattr(snapshot, name))
        self.recent = unique_frames(snapshot.recent)[:MAX_RECENT]
        self.log = deque(snapshot.log, maxlen=MAX_LOG)
        self.last = snapshot.last
        self.quality_bands = snapshot.quality_bands

    def detach(self, reason: str) -> None:
        """The connection is gone; keep the last picture but say it is stale."""
        self.connected, self.reason = False, reason
        self.attempts += 1

    def apply(self, event: Event) -> str:
        """Fold one event in; return the name of the section it changed ('' if none)."""
        if event.replaceable:
            data = getattr(event, event.kind)
            if data == getattr(self, event.kind):
                return ""  # sent again unchanged (the service re-sends gauges every second)
            setattr(self, event.kind, data)
            return event.kind
        if isinstance(event, FrameFinished):
            self._add_frame(event.frame)
            return "recent"
        if isinstance(event, LogAppended):
            self.log.append(event.log)
            return "log"
        if isinstance(event, Dropped):
            self.dropped += event.count
            return "dropped"
        return ""  # a refused frame: its log line says so

    def _add_frame(self, frame: FrameEntry) -> None:
        """Newest first; a frame seen again (waiting, then delivered) moves to the top."""
        self.recent = [frame, *(item for item in self.recent if item.name != frame.name)]
        del self.recent[MAX_RECENT:]
        if frame.result in (Result.OK, Result.WARNING) and frame.delivered:
            self.last = LastDelivered(frame.name, frame.latency, frame.finished_at)

    @property
    def state(self) -> str:
        """running / paused / stopping as the service says, or disconnected."""
        if not self.connected:
            return "disconnected"
        return self.service.state if self.service else "unknown"

    @property
    def verdict(self) -> tuple[int, str, list[str]]:
        """The health level, verdict and problems, as ``dataman health`` gives them."""
        if not self.connected:
            return 2, "DOWN", [f"service not running ({self.reason})" if self.reason
                               else "service not running"]
        if self.health is None:
            return 0, "OK", []
        return self.health.level, self.health.verdict, list(self.health.problems)

    @property
    def queue_total(self) -> int:
        """Frames waiting now: :attr:`queue` lists the first 200 of ``counts.queue_total``."""
        return self.counts.queue_total if self.counts else len(self.queue)

    @property
    def workers_expected(self) -> int:
        return self.service.workers_expected if self.service else len(self.workers)

    def uptime(self, now: float) -> float | None:
        if not self.connected or self.service is None:
            return None
        return max(0.0, now - self.service.started_at)

    def latencies(self, limit: int = 60) -> list[float]:
        """Latencies of the latest processed frames (not failed), oldest first."""
        values = [frame.latency for frame in self.recent[:limit]
                  if frame.result != Result.FAILED and frame.latency is not None]
        return values[::-1]

    def frame(self, name: str | None) -> FrameEntry | None:
        return next((item for item in self.recent if item.name == name), None)


def unique_frames(items: Iterable[FrameEntry]) -> list[FrameEntry]:
    """``items`` (newest first) with each frame name once: its first, newest, entry.

    A service older than this console listed a frame once per outcome (waiting,
    then delivered); the console shows one row per frame whatever it is sent.
    """
    seen: set[str] = set()
    unique = []
    for item in items:
        if item.name not in seen:
            seen.add(item.name)
            unique.append(item)
    return unique


def level_rank(level: object) -> int:
    """Position of a level name in :data:`LEVELS`; unknown names count as INFO."""
    name = str(level).upper()
    if name == "WARN":
        name = "WARNING"
    return LEVELS.index(name) if name in LEVELS else 1
