"""The control socket: how ``dataman-console`` and ``dataman health`` talk to the service.

A Unix stream socket (``[server] controlSocket``, relative to stateDir, mode
0660) carrying JSON lines: one UTF-8 JSON object per line, ``\\n``-terminated.
Every message has ``"v": 1`` (``PROTOCOL_VERSION``).

Requests (client → service), at most ``MAX_REQUEST`` bytes per line, one class
per op in :mod:`dataman.ipc.protocol_requests`::

    {"v": 1, "id": 7, "op": "snapshot"}
    {"v": 1, "id": 12, "op": "health"}            reply = {"level": 0, "line": "dataMan OK ..."}
    {"v": 1, "id": 8, "op": "subscribe"}          reply = snapshot, then events follow
    {"v": 1, "id": 9, "op": "pause"} / "resume" / "stop"
    {"v": 1, "id": 10, "op": "retry", "name": "mods1b.20251230.0143.fits"}
    {"v": 1, "id": 11, "op": "process", "path": "/home/data/mods1b/mods1b.20251230.0143.fits"}

Replies (service → client), ``id`` echoed::

    {"v": 1, "type": "reply", "id": 7, "ok": true, "result": {...}}
    {"v": 1, "type": "reply", "id": 9, "ok": false, "error": "unknown op 'frobnicate'"}

Events (service → subscribers), ``time`` in UTC epoch seconds::

    {"v": 1, "type": "event", "event": "<kind>", "time": 1767064366.1, "data": {...}}

The snapshot (``result`` of ``snapshot`` and ``subscribe``) and the ``data`` of
every event kind are classes, with their fields, in
:mod:`dataman.ipc.protocol_snapshot` and :mod:`dataman.ipc.protocol_events`:
replaceable events (``service``, ``counts``, ``queue``, ``workers``,
``transfers``, ``health``: a newer one makes an older one of the same kind
worthless, so a subscriber that falls behind gets only the latest) carry a whole
snapshot section; appended ones each count (``frame``: one item of ``recent``;
``log``: one line; ``refused``: a request not acted on); ``dropped`` (``{"count":
n}``) is the number of appended events this subscriber lost because it did not
read fast enough.

Bad requests get an error reply and the connection stays open: malformed JSON,
not UTF-8, not an object, missing or unknown ``v`` or ``op`` (``id`` is null
when it could not be read). A line longer than ``MAX_REQUEST`` bytes (newline
not counted) gets one and the connection is closed.

A subscriber that does not read never slows the service: its outgoing
messages wait in a bounded per-subscriber buffer where replaceable events are
coalesced and appended ones beyond the bound are dropped and counted; the
``dropped`` event comes once it has caught up, before any later event. A client
whose socket takes nothing for ``STUCK_TIMEOUT`` seconds (30) is disconnected.
The service end is :class:`dataman.ipc.control_server.ControlServer`.

Clients: :func:`request` (one synchronous request, bounded in time, for
``dataman health`` and scripts; no asyncio, so it starts quickly) and
:class:`dataman.ipc.connection.ControlConnection` (asyncio, for the console),
which holds at most ``EVENT_LIMIT`` events its reader has not
taken and reports any it had to drop with a ``dropped`` event of its own.
Messages are built and parsed only by :func:`encode` and :func:`decode`; the
requests, the snapshot and the events inside them are classes
(:mod:`dataman.ipc.protocol`, ``protocol_requests``, ``protocol_snapshot``,
``protocol_events``) that encode and decode themselves.
A client that receives a message of another version raises
:class:`ProtocolVersionError`, whose text says which side to upgrade.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dataman.core.errors import DataManError
from dataman.ipc.states import EventKind

if TYPE_CHECKING:
    from dataman.ipc.protocol_requests import Request
    from dataman.ipc.protocol_snapshot import Snapshot

PROTOCOL_VERSION = 1
MAX_REQUEST = 64 * 1024
#: Longest message a client accepts (a full snapshot is a few hundred kB at most).
MAX_MESSAGE = 16 * 1024 * 1024
#: Event kinds whose newer event makes an older one worthless (a whole snapshot section),
#: and those that each count.
REPLACEABLE = frozenset({EventKind.SERVICE, EventKind.COUNTS, EventKind.QUEUE,
                         EventKind.WORKERS, EventKind.TRANSFERS, EventKind.HEALTH,
                         EventKind.SETUPS})
APPENDED = frozenset({EventKind.FRAME, EventKind.LOG, EventKind.REFUSED})

class ControlError(DataManError):
    """A request the service refuses; the message is the ``error`` of the reply."""


class ProtocolVersionError(ControlError):
    """The other side speaks another major version of the protocol: say which to upgrade."""

    def __init__(self, service: object, client: str = "client") -> None:
        self.service_version = service
        upgrade = (f"upgrade this {client}" if isinstance(service, int)
                   and service > PROTOCOL_VERSION else "upgrade the dataMan service")
        super().__init__(f"dataMan service speaks control protocol {service}, this {client} "
                         f"speaks {PROTOCOL_VERSION}: {upgrade}")


class ControlUnavailable(DataManError):
    """No service answers on the control socket; the message says why."""


def encode(message: dict[str, Any]) -> bytes:
    """One JSON line, ``v`` first; ``json`` escapes every newline inside strings."""
    return json.dumps({"v": PROTOCOL_VERSION, **message}, separators=(",", ":"),
                      ensure_ascii=False).encode() + b"\n"


def decode(line: bytes | str, *, client: str = "client") -> dict[str, Any]:
    """A message from the service; ControlError says precisely what is wrong with it,
    ProtocolVersionError (in words for an operator) if it speaks another version."""
    message = parse(line)
    version = message.get("v")
    if version is not None and (type(version) is not int or version != PROTOCOL_VERSION):
        raise ProtocolVersionError(version, client)
    return check_version(message)


def parse(line: bytes | str) -> dict[str, Any]:
    """The JSON object in one line, its version not checked yet (the server reads
    the ``id`` first, to echo it in the error reply)."""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ControlError(f"not UTF-8 (invalid byte at offset {error.start})") from None
    try:
        message = json.loads(line)
    except json.JSONDecodeError as error:
        raise ControlError(f"malformed JSON: {error}") from None
    if not isinstance(message, dict):
        raise ControlError(f"not a JSON object but {type(message).__name__}")
    return message


def check_version(message: dict[str, Any]) -> dict[str, Any]:
    """``message`` itself if it speaks ``PROTOCOL_VERSION``, else ControlError."""
    version = message.get("v")
    if version is None:
        raise ControlError("missing protocol version 'v'")
    if type(version) is not int or version != PROTOCOL_VERSION:
        raise ControlError(f"unsupported protocol version {version!r} "
                           f"(this side speaks {PROTOCOL_VERSION})")
    return message



def request(path: Path, message: Request, /, *, timeout: float = 1.0,
            client: str = "client") -> dict[str, Any]:
    """Send one request and return its ``result``, all within ``timeout`` seconds.

    For ``dataman health`` and scripts: a hung service must cost a bounded wait,
    so every socket call gets what is left of the one deadline.
    """
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.settimeout(timeout)
            sock.connect(os.fspath(path))
            sock.settimeout(_left(deadline, timeout))
            sock.sendall(encode({"id": 1, **message.message()}))
            while True:
                answer = decode(_read_line(sock, deadline, timeout), client=client)
                if answer.get("type") == "reply" and answer.get("id") == 1:
                    return reply_result(answer)
        except OSError as error:
            raise ControlUnavailable(unavailable_reason(error, path, timeout)) from None


def request_snapshot(path: Path, *, timeout: float = 1.0, client: str = "client") -> Snapshot:
    """The service's snapshot, decoded (ProtocolError names a field that does not fit).

    The classes are imported only once there is a reply to decode: a ``dataman health``
    on a hung service does not pay for building them."""
    from dataman.ipc.protocol_requests import SnapshotRequest

    result = request(path, SnapshotRequest(), timeout=timeout, client=client)
    from dataman.ipc.protocol_snapshot import Snapshot

    return Snapshot.from_dict(result, where="snapshot")


def _read_line(sock: socket.socket, deadline: float, timeout: float) -> bytes:
    """One line from ``sock``; the bytes after it are not needed by a one-shot client."""
    chunks: list[bytes] = []
    while True:
        sock.settimeout(_left(deadline, timeout))
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionAbortedError
        head, newline, _ = chunk.partition(b"\n")
        chunks.append(head)
        if newline:
            return b"".join(chunks)


def _left(deadline: float, timeout: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError(f"no reply within {timeout:g} s")
    return left


def reply_result(message: dict[str, Any]) -> dict[str, Any]:
    """The ``result`` of a reply, or its ``error`` as a ControlError."""
    if message.get("ok"):
        return message.get("result") or {}
    raise ControlError(str(message.get("error", "request refused")))


def unavailable_reason(error: OSError, path: Path, timeout: float) -> str:
    """Why nobody answers, in the words an operator looks for."""
    if isinstance(error, FileNotFoundError):
        return f"no socket file {path}"
    if isinstance(error, ConnectionRefusedError):
        return f"connection refused on {path}"
    if isinstance(error, TimeoutError):
        return f"no reply within {timeout:g} s"
    if isinstance(error, BlockingIOError):
        return f"{path}: connection backlog full, the service accepts no connection"
    if isinstance(error, ConnectionAbortedError | ConnectionResetError | BrokenPipeError):
        return "connection closed by the service before its reply"
    return f"{path}: {error.strerror or error}"
