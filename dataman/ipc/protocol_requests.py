"""The requests of the control protocol, one class per op.

On the wire a request is ``{"v": 1, "id": <n>, "op": <op>, ...fields}``: the
fields of its class beside the op. A client builds the class
(``RetryRequest(name)``) and :func:`dataman.ipc.control.request` or
:class:`dataman.ipc.connection.ControlConnection` sends it; the service decodes
each line once with :func:`decode_request`, strictly, so a request whose field
is missing or of the wrong type gets an error reply naming it (``retry.name:
missing``), and hands the typed request to the handler of its op.

Kept apart from the snapshot's classes: ``dataman health`` builds its request
without importing those.

>>> RetryRequest("mods1b.20251230.0143.fits").message()
{'op': 'retry', 'name': 'mods1b.20251230.0143.fits'}
>>> decode_request({"v": 1, "id": 4, "op": "retry", "name": 143})
Traceback (most recent call last):
...
dataman.ipc.protocol.ProtocolError: retry.name: expected str, got int
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from dataman.ipc.protocol import ProtocolError, Wire


class Op(StrEnum):
    """What a request asks for: its ``op`` on the wire."""

    SNAPSHOT = "snapshot"
    HEALTH = "health"  # came within protocol 1: an older service answers "unknown op"
    SUBSCRIBE = "subscribe"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    RETRY = "retry"
    PROCESS = "process"


@dataclass(frozen=True)
class Request(Wire):
    """A request; its fields are those it carries beside its ``op``."""

    op: ClassVar[Op]

    def message(self) -> dict[str, Any]:
        """The request as the JSON object sent (``v`` and ``id`` are added by the sender)."""
        return {"op": self.op.value, **self.to_dict()}

    @property
    def subject(self) -> str:
        """What the request is about, for a message to the operator ('' for none)."""
        return ""


@dataclass(frozen=True)
class SnapshotRequest(Request):
    """The whole snapshot (:class:`dataman.ipc.protocol_snapshot.Snapshot`)."""

    op: ClassVar[Op] = Op.SNAPSHOT


@dataclass(frozen=True)
class HealthRequest(Request):
    """The ``dataman health`` line the service makes of its snapshot: ``level``, ``line``."""

    op: ClassVar[Op] = Op.HEALTH


@dataclass(frozen=True)
class SubscribeRequest(Request):
    """The snapshot, then every event as it happens, on the same connection."""

    op: ClassVar[Op] = Op.SUBSCRIBE


@dataclass(frozen=True)
class PauseRequest(Request):
    """Stop dispatching frames; requests are still recorded and queued."""

    op: ClassVar[Op] = Op.PAUSE


@dataclass(frozen=True)
class ResumeRequest(Request):
    """Dispatch queued frames again."""

    op: ClassVar[Op] = Op.RESUME


@dataclass(frozen=True)
class StopRequest(Request):
    """Stop the service (frames being processed finish, queued ones wait in the journal)."""

    op: ClassVar[Op] = Op.STOP


@dataclass(frozen=True)
class RetryRequest(Request):
    """Process the failed frame ``name`` (a raw file name) again."""

    op: ClassVar[Op] = Op.RETRY
    name: str

    @property
    def subject(self) -> str:
        return self.name


@dataclass(frozen=True)
class ProcessRequest(Request):
    """Queue the raw frame at ``path`` (under dataDir), as a datagram from azcam would."""

    op: ClassVar[Op] = Op.PROCESS
    path: str

    @property
    def subject(self) -> str:
        return self.path


REQUESTS: dict[Op, type[Request]] = {cls.op: cls for cls in (
    SnapshotRequest, HealthRequest, SubscribeRequest, PauseRequest, ResumeRequest,
    StopRequest, RetryRequest, ProcessRequest)}


def decode_request(message: dict[str, Any]) -> Request:
    """The request in a (version-checked) message; ProtocolError says what is wrong:
    no op, an op this service does not know, a field missing or of the wrong type."""
    op = message.get("op")
    if op is None:
        raise ProtocolError("missing 'op'")
    if not isinstance(op, str) or op not in REQUESTS:
        raise ProtocolError(f"unknown op {op!r}")
    return REQUESTS[Op(op)].from_dict(message, where=op)
