"""The words the control protocol carries, each an enum defined once, here.

The service sets these values and the console, the demo and ``dataman health``
read them, so they live below both (``ipc``: the service may import it, and so
may the console, which never imports the service). On the wire each is its
value, a JSON string; decoding is strict, so a value this side does not know
is a :class:`~dataman.ipc.protocol.ProtocolError` naming the field and the
values allowed. A new member therefore changes the protocol version, as any
other change a reader cannot skip does.

The journal's frame states and sources are here for the same reason: the
snapshot counts frames by state and says where each queued frame came from.
"""

from __future__ import annotations

from enum import StrEnum


class ServiceState(StrEnum):
    """What the console header shows; only RUNNING dispatches new jobs."""

    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"  # requests are journaled and queued, no new job starts
    STOPPING = "stopping"


class WorkerState(StrEnum):
    """A worker process's life (:mod:`dataman.service.worker_process` moves it along its edges)."""

    STARTING = "starting"
    IDLE = "idle"
    BUSY = "busy"
    STOPPING = "stopping"
    EXITED = "exited"


class FrameState(StrEnum):
    """A frame's state in the journal (:mod:`dataman.service.records`)."""

    QUEUED = "queued"
    RUNNING = "running"
    PROCESSED = "processed"  # written to procDir, awaiting delivery
    DELIVERED = "delivered"
    FAILED = "failed"


class Source(StrEnum):
    """Who asked for the frame; live requests run before the raw-folder scan's finds."""

    DATAGRAM = "datagram"
    SCAN = "scan"
    CONSOLE = "console"
    #: Never in the journal: a frame ``dataman process`` did (``core.reprocessed``), as
    #: the night report reads it.
    BATCH = "batch"

    @property
    def priority(self) -> int:
        return 1 if self is Source.SCAN else 0


class Result(StrEnum):
    """How a finished frame (a ``recent`` entry) ended."""

    OK = "ok"  # delivered (or, in shadow mode, processed) without a warning
    WARNING = "warning"  # the same, with warnings
    WAITING = "waiting"  # processed, its delivery waits for the staging disk
    FAILED = "failed"


class EventKind(StrEnum):
    """The ``event`` of an event message (:mod:`dataman.ipc.protocol_events`)."""

    SERVICE = "service"
    COUNTS = "counts"
    QUEUE = "queue"
    WORKERS = "workers"
    TRANSFERS = "transfers"
    HEALTH = "health"
    SETUPS = "setups"
    FRAME = "frame"
    LOG = "log"
    REFUSED = "refused"
    DROPPED = "dropped"
