"""The events of the control protocol, one class per kind.

On the wire an event is ``{"v", "type": "event", "event": <kind>, "time", "data"}``.
A replaceable event (``service``, ``counts``, ``queue``, ``workers``,
``transfers``, ``health``, ``setups``) carries a whole snapshot section in the field named
like its kind, and a newer one makes an older one worthless; an appended event
(``frame``, ``log``, ``refused``) counts each time, and ``dropped`` says how many
appended events a subscriber lost (it should then read the snapshot again).

>>> event = FrameRefused("mods1b.20251230.0143.fits", "192.0.2.7:50123", "already delivered")
>>> event.data()
{'name': 'mods1b.20251230.0143.fits', 'origin': '192.0.2.7:50123', 'reason': 'already delivered'}
>>> decode_event({"event": "refused", "time": 0, "data": event.data()}) == event
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from dataman.ipc.protocol import ProtocolError, Wire, field_hints, from_json, to_json
from dataman.ipc.protocol_snapshot import (
    Counts,
    FrameEntry,
    HealthInfo,
    LogEntry,
    QueueEntry,
    ServiceInfo,
    SetupEntry,
    Transfers,
    WorkerEntry,
)
from dataman.ipc.states import EventKind


class UnknownEvent(ProtocolError):
    """An event kind this side does not know (a newer service may add kinds): skip it."""


@dataclass(frozen=True)
class Event(Wire):
    """An event; ``data()`` is its ``data`` on the wire."""

    kind: ClassVar[EventKind]
    #: A newer event of the same kind makes this one worthless.
    replaceable: ClassVar[bool] = False
    #: The data is the one field named like the kind (a section, a frame, a log line),
    #: else the object of all fields.
    single: ClassVar[bool] = True

    def data(self) -> Any:
        return to_json(getattr(self, self.kind)) if self.single else self.to_dict()

    @classmethod
    def from_data(cls, data: object) -> Event:
        where = f"event {cls.kind.value!r} data"
        if not cls.single:
            return cls.from_dict(data, where=where)
        return cls(from_json(field_hints(cls)[cls.kind], data, where))  # type: ignore[call-arg]


@dataclass(frozen=True)
class ServiceChanged(Event):
    kind: ClassVar[EventKind] = EventKind.SERVICE
    replaceable: ClassVar[bool] = True
    service: ServiceInfo


@dataclass(frozen=True)
class CountsChanged(Event):
    kind: ClassVar[EventKind] = EventKind.COUNTS
    replaceable: ClassVar[bool] = True
    counts: Counts


@dataclass(frozen=True)
class QueueChanged(Event):
    kind: ClassVar[EventKind] = EventKind.QUEUE
    replaceable: ClassVar[bool] = True
    queue: tuple[QueueEntry, ...]


@dataclass(frozen=True)
class WorkersChanged(Event):
    kind: ClassVar[EventKind] = EventKind.WORKERS
    replaceable: ClassVar[bool] = True
    workers: tuple[WorkerEntry, ...]


@dataclass(frozen=True)
class TransfersChanged(Event):
    kind: ClassVar[EventKind] = EventKind.TRANSFERS
    replaceable: ClassVar[bool] = True
    transfers: Transfers


@dataclass(frozen=True)
class HealthChanged(Event):
    kind: ClassVar[EventKind] = EventKind.HEALTH
    replaceable: ClassVar[bool] = True
    health: HealthInfo


@dataclass(frozen=True)
class SetupsChanged(Event):
    """Tonight's setup checklist, whole (after a frame is processed)."""

    kind: ClassVar[EventKind] = EventKind.SETUPS
    replaceable: ClassVar[bool] = True
    setups: tuple[SetupEntry, ...]


@dataclass(frozen=True)
class FrameFinished(Event):
    """A frame finished (delivered, waiting for delivery, or failed): its ``recent`` entry."""

    kind: ClassVar[EventKind] = EventKind.FRAME
    frame: FrameEntry


@dataclass(frozen=True)
class LogAppended(Event):
    """A line of the service's log."""

    kind: ClassVar[EventKind] = EventKind.LOG
    log: LogEntry


@dataclass(frozen=True)
class FrameRefused(Event):
    """A request for ``name`` that the service will not act on (already known, or the
    journal could not record it): the frame gets no ``frame`` event for it."""

    kind: ClassVar[EventKind] = EventKind.REFUSED
    single: ClassVar[bool] = False
    name: str
    origin: str
    reason: str


@dataclass(frozen=True)
class Dropped(Event):
    """``count`` appended events were lost because the subscriber fell behind."""

    kind: ClassVar[EventKind] = EventKind.DROPPED
    single: ClassVar[bool] = False
    count: int


EVENTS: dict[EventKind, type[Event]] = {cls.kind: cls for cls in (
    ServiceChanged, CountsChanged, QueueChanged, WorkersChanged, TransfersChanged,
    HealthChanged, SetupsChanged, FrameFinished, LogAppended, FrameRefused, Dropped)}


def decode_event(message: dict[str, Any]) -> Event:
    """The event of a decoded event message; UnknownEvent for a kind not in EVENTS."""
    kind = message.get("event")
    if not isinstance(kind, str):
        raise ProtocolError(f"event message without a kind: {kind!r}")
    try:
        cls = EVENTS[EventKind(kind)]
    except ValueError:
        raise UnknownEvent(f"unknown event kind {kind!r}") from None
    if "data" not in message:
        raise ProtocolError(f"event {kind!r}: missing data")
    return cls.from_data(message["data"])
