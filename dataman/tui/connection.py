"""The console's link to the service: subscribe, forward events, reconnect by itself.

:class:`ServiceLink` owns the one subscription. :meth:`ServiceLink.follow`
connects to the control socket, subscribes, and turns the snapshot and every
event into Textual messages posted to the app; when the service is absent or
goes away it posts :class:`ServiceLink.Detached` and tries again with a short
backoff (at most :data:`MAX_BACKOFF` seconds, so the console attaches within a
second or so of the service appearing). Nothing here polls files or logs.

Actions (pause, retry, ...) go through :func:`send_request`, one short
connection each, so a slow reply never holds up the event stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.message import Message

from dataman.ipc.connection import ControlConnection
from dataman.ipc.control import ControlError, ControlUnavailable
from dataman.ipc.protocol import ProtocolError
from dataman.ipc.protocol_events import Event as ProtocolEvent
from dataman.ipc.protocol_requests import Request
from dataman.ipc.protocol_snapshot import Snapshot

FIRST_BACKOFF = 0.25
MAX_BACKOFF = 1.0
CONNECT_TIMEOUT = 1.0
REQUEST_TIMEOUT = 5.0


class ServiceLink:
    """Follows the service at ``path`` for as long as the console runs."""

    @dataclass
    class Attached(Message):
        """Subscribed: ``snapshot`` is the whole picture; events follow."""

        snapshot: Snapshot

    @dataclass
    class Detached(Message):
        """Not (or no longer) connected; the next attempt is in ``retry_in`` seconds."""

        reason: str
        retry_in: float

    @dataclass
    class Event(Message):
        """One event of the protocol, decoded."""

        event: ProtocolEvent

        @property
        def kind(self) -> str:
            return self.event.kind

        def can_replace(self, message: Message) -> bool:
            """A queued newer section of the same kind makes this one worthless."""
            return (isinstance(message, ServiceLink.Event) and message.kind == self.kind
                    and self.event.replaceable)

    def __init__(self, path: Path, post: Callable[[Message], object]) -> None:
        self.path = Path(path)
        self.post = post

    async def follow(self) -> None:
        """Attach, forward, and on any loss detach and try again; runs until cancelled."""
        backoff = FIRST_BACKOFF
        while True:
            try:
                connection = await ControlConnection.open(self.path, timeout=CONNECT_TIMEOUT,
                                                          client="console")
            except (TimeoutError, ControlUnavailable, OSError) as error:
                self.post(self.Detached(_reason(error), backoff))
                await asyncio.sleep(backoff)
                backoff = min(MAX_BACKOFF, backoff * 2)
                continue
            backoff = FIRST_BACKOFF
            reason = await self._forward(connection)
            self.post(self.Detached(reason, backoff))
            await asyncio.sleep(backoff)

    async def _forward(self, connection: ControlConnection) -> str:
        """Subscribe and post events until the connection ends; return why it ended."""
        try:
            self.post(self.Attached(await connection.subscribe()))
            while True:
                self.post(self.Event(await connection.next_event()))
        except (ControlUnavailable, ControlError, ProtocolError, OSError, ValueError) as error:
            return _reason(error) or "connection closed"
        finally:
            await connection.close()


async def send_request(socket: Path, request: Request, /) -> dict[str, Any]:
    """One request on its own connection; the ``result`` or :class:`ControlError`."""
    connection = await ControlConnection.open(socket, timeout=CONNECT_TIMEOUT, client="console")
    try:
        return await connection.request(request, timeout=REQUEST_TIMEOUT)
    finally:
        await connection.close()


def _reason(error: BaseException) -> str:
    return str(error) or type(error).__name__
