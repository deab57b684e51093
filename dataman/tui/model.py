"""The console's view of the service: a snapshot, then kept current by events.

Pure Python, no Textual: :class:`ServiceView` applies the ``subscribe`` reply
and each event message of the control protocol (``dataman.ipc.control``) and
answers what the panels ask (state, uptime, latencies, the selected frame,
the log at a level). Every method that depends on the time takes ``now``.

>>> view = ServiceView()
>>> view.state
'disconnected'
>>> view.attach({"service": {"state": "running", "started_at": 100.0}, "recent": []})
>>> view.apply({"event": "frame", "data": {"name": "a.fits", "result": "ok", "latency": 0.8}})
'recent'
>>> view.state, view.uptime(160.0), view.latencies()
('running', 60.0, [0.8])
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: Event kinds whose data is a whole snapshot section that replaces the previous one.
REPLACEABLE = frozenset({"service", "counts", "queue", "workers", "transfers", "health"})
#: Steps of the per-frame timings, in processing order.
STEPS = ("read", "fixes", "otm", "write", "deliver")
#: Log levels, lowest first; the console filters "this level and above".
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MAX_RECENT = 100
MAX_LOG = 500

Section = dict[str, Any]


@dataclass
class ServiceView:
    """Everything the console shows, as the service last described it."""

    connected: bool = False
    reason: str = "not connected yet"
    service: Section = field(default_factory=dict)
    counts: Section = field(default_factory=dict)
    queue: list[Section] = field(default_factory=list)
    workers: list[Section] = field(default_factory=list)
    recent: list[Section] = field(default_factory=list)
    transfers: Section = field(default_factory=dict)
    log: deque[Section] = field(default_factory=lambda: deque(maxlen=MAX_LOG))
    last: Section | None = None
    health: Section = field(default_factory=dict)
    dropped: int = 0
    attempts: int = 0

    def attach(self, snapshot: Section) -> None:
        """Replace everything with a fresh snapshot (on connect and on every reconnect)."""
        self.connected, self.reason, self.attempts = True, "", 0
        for name in REPLACEABLE:
            setattr(self, name, snapshot.get(name) or type(getattr(self, name))())
        self.recent = unique_frames(snapshot.get("recent") or [])[:MAX_RECENT]
        self.log = deque(snapshot.get("log") or [], maxlen=MAX_LOG)
        self.last = snapshot.get("last")

    def detach(self, reason: str) -> None:
        """The connection is gone; keep the last picture but say it is stale."""
        self.connected, self.reason = False, reason
        self.attempts += 1

    def apply(self, event: Section) -> str:
        """Fold one event message in; return the name of the section it changed ('' if none)."""
        kind, data = event.get("event"), event.get("data")
        if kind in REPLACEABLE:
            data = data if data is not None else type(getattr(self, kind))()
            if data == getattr(self, kind):
                return ""  # sent again unchanged (the service re-sends gauges every second)
            setattr(self, kind, data)
            return kind
        if kind == "frame" and isinstance(data, dict):
            self._add_frame(data)
            return "recent"
        if kind == "log" and isinstance(data, dict):
            self.log.append(data)
            return "log"
        if kind == "dropped" and isinstance(data, dict):
            self.dropped += int(data.get("count", 0))
            return "dropped"
        return ""

    def _add_frame(self, frame: Section) -> None:
        """Newest first; a frame seen again (waiting, then delivered) moves to the top."""
        name = frame.get("name")
        self.recent = [frame, *(item for item in self.recent if item.get("name") != name)]
        del self.recent[MAX_RECENT:]
        if frame.get("result") in ("ok", "warning") and frame.get("delivered"):
            self.last = {"name": name, "latency": frame.get("latency"),
                         "delivered_at": frame.get("finished_at")}

    @property
    def state(self) -> str:
        """running / paused / stopping as the service says, or disconnected."""
        if not self.connected:
            return "disconnected"
        return str(self.service.get("state", "unknown"))

    @property
    def verdict(self) -> tuple[int, str, list[str]]:
        """The health level, verdict and problems, as ``dataman health`` gives them."""
        if not self.connected:
            return 2, "DOWN", [f"service not running ({self.reason})" if self.reason
                               else "service not running"]
        health = self.health
        return (int(health.get("level", 0)), str(health.get("verdict", "OK")),
                list(health.get("problems") or []))

    @property
    def queue_total(self) -> int:
        """Frames waiting now: :attr:`queue` lists the first 200 of ``counts.queue_total``."""
        return int(self.counts.get("queue_total", len(self.queue)))

    def uptime(self, now: float) -> float | None:
        started = self.service.get("started_at")
        return None if not self.connected or started is None else max(0.0, now - started)

    def latencies(self, limit: int = 60) -> list[float]:
        """Latencies of the latest processed frames (not failed), oldest first."""
        values = [frame["latency"] for frame in self.recent[:limit]
                  if frame.get("result") != "failed"
                  and isinstance(frame.get("latency"), (int, float))]
        return values[::-1]

    def frame(self, name: str | None) -> Section | None:
        return next((item for item in self.recent if item.get("name") == name), None)

    def log_at(self, level: str) -> list[Section]:
        """Log records at ``level`` and above, oldest first."""
        return [record for record in self.log if level_rank(record.get("level")) >=
                level_rank(level)]


def unique_frames(items: Iterable[Section]) -> list[Section]:
    """``items`` (newest first) with each frame name once: its first, newest, entry.

    A service older than this console listed a frame once per outcome (waiting,
    then delivered); the console shows one row per frame whatever it is sent.

    >>> [item["result"] for item in unique_frames([
    ...     {"name": "a.fits", "result": "ok"}, {"name": "b.fits", "result": "ok"},
    ...     {"name": "a.fits", "result": "waiting"}])]
    ['ok', 'ok']
    """
    seen: set[object] = set()
    unique = []
    for item in items:
        name = item.get("name")
        if name not in seen:
            seen.add(name)
            unique.append(item)
    return unique


def level_rank(level: object) -> int:
    """Position of a level name in :data:`LEVELS`; unknown names count as INFO."""
    name = str(level).upper()
    if name == "WARN":
        name = "WARNING"
    return LEVELS.index(name) if name in LEVELS else 1
