"""The console's client of the control socket: asyncio, replies and events on one connection.

Kept apart from :mod:`dataman.ipc.control` (the protocol and the one-shot
``request``) so that ``dataman health``, run every few seconds by the status
display, does not pay for importing asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any

from dataman.ipc.control import (
    MAX_MESSAGE,
    PROTOCOL_VERSION,
    REPLACEABLE,
    ControlError,
    ControlUnavailable,
    ProtocolVersionError,
    decode,
    encode,
    reply_result,
    unavailable_reason,
)
from dataman.ipc.protocol_events import Event, UnknownEvent, decode_event
from dataman.ipc.protocol_requests import Request, SnapshotRequest, SubscribeRequest
from dataman.ipc.protocol_snapshot import Snapshot

#: Most events a ControlConnection holds for a reader that falls behind (the service
#: sends at most 1000 appended ones per subscriber before dropping, and a burst of
#: replaceable ones besides).
EVENT_LIMIT = 4000


class _EventBuffer:
    """The events a ControlConnection received and its reader did not take yet.

    Holds at most ``limit``, so a console that stalls costs bounded memory. Full,
    it drops first the oldest replaceable event that a newer one of its kind makes
    worthless (nothing lost), else the oldest appended one, which it counts (a
    ``dropped`` event from the service adds its own count). What was lost is older
    than anything still held, so ``get`` reports it before the next event, as a
    ``dropped`` event like the service's.
    """

    def __init__(self, limit: int) -> None:
        if limit <= len(REPLACEABLE):
            raise ValueError(f"an event buffer holds more than {len(REPLACEABLE)} events")
        self._limit = limit
        self._events: deque[tuple[str | None, dict[str, Any]]] = deque()  # (kind, event)
        self._replaceable: Counter[str] = Counter()  # how many of each kind are held
        self._dropped = 0
        self._closed = False
        self._arrived = asyncio.Event()

    def put(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        kind = kind if isinstance(kind, str) else None
        self._events.append((kind, event))
        if kind in REPLACEABLE:
            self._replaceable[kind] += 1
        if len(self._events) > self._limit:
            self._make_room()
        self._arrived.set()

    def close(self) -> None:
        """No more events will come: ``get`` returns None once the held ones are taken."""
        self._closed = True
        self._arrived.set()

    async def get(self) -> dict[str, Any] | None:
        while not self._events and not self._dropped:
            if self._closed:
                return None
            self._arrived.clear()
            await self._arrived.wait()
        if self._dropped:
            count, self._dropped = self._dropped, 0
            return {"v": PROTOCOL_VERSION, "type": "event", "event": "dropped",
                    "time": time.time(), "data": {"count": count}}
        kind, event = self._events.popleft()
        if kind in REPLACEABLE:
            self._replaceable[kind] -= 1
        return event

    def _make_room(self) -> None:
        # With no kind superseded, at most one event of each replaceable kind is held,
        # and limit exceeds their number: an appended event is there to drop.
        superseded = {kind for kind, held in self._replaceable.items() if held > 1}
        index = next(i for i, (kind, _) in enumerate(self._events)
                     if (kind in superseded if superseded else kind not in REPLACEABLE))
        kind, event = self._events[index]
        del self._events[index]
        if kind is not None and kind in superseded:
            self._replaceable[kind] -= 1
        else:
            self._dropped += _lost(kind, event)


def _lost(kind: str | None, event: dict[str, Any]) -> int:
    """How many appended events dropping ``event`` loses (a ``dropped`` event stands for n)."""
    data = event.get("data")
    if kind == "dropped" and isinstance(data, dict):
        count = data.get("count")
        if isinstance(count, int) and count > 0:
            return count
    return 1


class ControlConnection:
    """An asyncio client (the console's): replies and events interleave on one connection.

    A reader task routes each reply to the request waiting for its ``id`` and
    keeps events for ``next_event``, at most ``event_limit`` (see ``_EventBuffer``):
    the reader never waits for the console, or replies would wait behind events.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                 event_limit: int = EVENT_LIMIT, client: str = "client") -> None:
        self._client = client
        self._reader = reader
        self._writer = writer
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._events = _EventBuffer(event_limit)
        self._closed_because: str | None = None
        self._task = asyncio.create_task(self._read_loop())

    @classmethod
    async def open(cls, path: Path, *, timeout: float = 1.0,
                   client: str = "client") -> ControlConnection:
        """Connect; ``client`` names this side in a version mismatch ("this console ...")."""
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_unix_connection(os.fspath(path),
                                                                    limit=MAX_MESSAGE)
        except OSError as error:
            raise ControlUnavailable(unavailable_reason(error, path, timeout)) from None
        return cls(reader, writer, client=client)

    async def request(self, message: Request, /, *, timeout: float = 5.0) -> dict[str, Any]:
        """The ``result`` of the request; ControlError if refused, ControlUnavailable if no
        reply."""
        if self._closed_because is not None:
            raise ControlUnavailable(self._closed_because)
        ident = next(self._ids)
        future = self._pending[ident] = asyncio.get_running_loop().create_future()
        try:
            self._writer.write(encode({"id": ident, **message.message()}))
            async with asyncio.timeout(timeout):
                await self._writer.drain()
                return reply_result(await future)
        except TimeoutError:
            raise ControlUnavailable(f"no reply to {message.op.value!r} within {timeout:g} s"
                                     ) from None
        except OSError as error:
            raise ControlUnavailable(f"connection lost: {error}") from None
        finally:
            self._pending.pop(ident, None)

    async def subscribe(self) -> Snapshot:
        """The snapshot; from then on every event arrives through ``next_event``."""
        return Snapshot.from_dict(await self.request(SubscribeRequest()), where="snapshot")

    async def snapshot(self) -> Snapshot:
        """The snapshot now (ProtocolError names a field that does not fit)."""
        return Snapshot.from_dict(await self.request(SnapshotRequest()), where="snapshot")

    async def next_event(self) -> Event:
        """The next event, decoded; kinds this side does not know are skipped (a newer
        service of the same protocol version may add some). ProtocolError if one does
        not fit its class; ControlUnavailable once the connection is closed."""
        while True:
            try:
                return decode_event(await self.next_message())
            except UnknownEvent:
                continue

    async def next_message(self) -> dict[str, Any]:
        """The next whole event message, or a ``dropped`` one standing for those this
        connection had to drop; ControlUnavailable once the connection is closed."""
        event = await self._events.get()
        if event is None:  # and every later call fails the same way
            raise ControlUnavailable(self._closed_because or "connection closed")
        return event

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._closed_because = "connection closed by this client"
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()

    async def _read_loop(self) -> None:
        reason = "connection closed by the service"
        try:
            while line := await self._reader.readline():
                self._route(decode(line, client=self._client))
        except ProtocolVersionError as error:
            reason = str(error)
        except (OSError, ValueError, ControlError) as error:  # ValueError: line too long
            reason = f"connection lost: {error}"
        finally:
            self._closed_because = reason
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ControlUnavailable(reason))
            self._events.close()

    def _route(self, message: dict[str, Any]) -> None:
        if message.get("type") == "event":
            self._events.put(message)
        elif message.get("type") == "reply":
            future = self._pending.get(message.get("id"))  # type: ignore[arg-type]
            if future is not None and not future.done():
                future.set_result(message)
