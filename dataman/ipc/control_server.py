"""The service end of the control socket: answers requests, fans events out to subscribers.

The protocol (message formats, ops, event kinds) is in :mod:`dataman.ipc.control`;
this module is only the server, run in the supervisor's event loop.

Why every client gets a bounded, coalescing outgoing buffer (``_Outbox``): that
event loop also dispatches frames, so publishing an event must never wait for a
console, and a console that stops reading (suspended, behind a hung ssh session,
a slow terminal) must cost bounded memory, not all of it. So ``publish`` only
queues, and a per-client task writes. Replaceable events are whole snapshot
sections, so only the newest of each kind is worth sending: pending ones are
replaced in place, which bounds them by the number of kinds. Appended events
each count, so beyond ``buffer_limit`` they are dropped and counted, and the
client gets one ``dropped`` event once it catches up, to re-read the snapshot.
Replies are never dropped; instead a client's next request waits until its
buffer has room. A socket that takes nothing for ``STUCK_TIMEOUT`` seconds
belongs to a client that is gone or wedged, and is disconnected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import stat
import time
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from dataman.ipc.control import (
    APPENDED,
    MAX_REQUEST,
    REPLACEABLE,
    ControlError,
    check_version,
    encode,
    parse,
)
from dataman.ipc.protocol import ProtocolError, Wire
from dataman.ipc.protocol_events import Event
from dataman.ipc.protocol_requests import (
    Request,
    SnapshotRequest,
    SubscribeRequest,
    decode_request,
)

SOCKET_MODE = 0o660
#: A client whose socket accepts nothing for this long is disconnected, seconds.
STUCK_TIMEOUT = 30.0
#: At shutdown, how long clients get to receive what is queued for them (the reply to
#: ``stop``, the last events), seconds.
CLOSE_FLUSH = 0.5

log = logging.getLogger("dataman")

#: ``handler(request)`` returns the ``result`` (a protocol object such as the
#: Snapshot, encoded here, or a plain dict); a ControlError becomes an error reply.
#: It is given every request but ``subscribe``, which is answered with the snapshot.
Handler = Callable[[Request], Awaitable[dict[str, Any] | Wire]]


def _reply(ident: Any, result: dict[str, Any] | Wire | None = None,
           error: str | None = None) -> bytes:
    if error is not None:
        return encode({"type": "reply", "id": ident, "ok": False, "error": error})
    if isinstance(result, Wire):
        result = result.to_dict()
    return encode({"type": "reply", "id": ident, "ok": True, "result": result})


def _event(kind: str, data: dict[str, Any], now: float | None = None) -> bytes:
    return encode({"type": "event", "event": kind,
                   "time": time.time() if now is None else now, "data": data})


class _Outbox:
    """One client's bounded outgoing buffer and the task that writes it to the socket.

    The queue holds replies and appended events as bytes, and each pending
    replaceable kind once, as its name: the newest message of that kind waits in
    ``_latest`` and replaces an older one that was not sent yet.
    """

    def __init__(self, writer: asyncio.StreamWriter, limit: int, stuck_timeout: float) -> None:
        self.writer = writer
        self.subscribed = False
        self._limit = limit
        self._stuck_timeout = stuck_timeout
        self._queue: deque[bytes | str] = deque()
        self._latest: dict[str, bytes] = {}
        self._dropped = 0
        self._wake = asyncio.Event()
        self._progress = asyncio.Event()
        self._closing = False
        self._task = asyncio.create_task(self._write_loop())

    def send(self, message: bytes) -> None:
        """Queue a reply: never dropped (``wait_for_room`` bounds them)."""
        self._queue.append(message)
        self._wake.set()

    def push_event(self, kind: str, message: bytes) -> None:
        """Queue an event without waiting: coalesce, or drop and count."""
        if kind in REPLACEABLE:
            if kind not in self._latest:
                self._queue.append(kind)
            self._latest[kind] = message
        elif len(self._queue) >= self._limit:
            self._dropped += 1
            return
        else:
            self._flush_dropped()
            self._queue.append(message)
        self._wake.set()

    async def wait_for_room(self) -> None:
        """Hold the next request of a client that does not read its replies."""
        while len(self._queue) >= self._limit and not self._task.done():
            self._progress.clear()
            await self._progress.wait()
        if self._task.done():
            raise ConnectionResetError("the client stopped reading")

    async def close(self, *, flush: float = 0.0) -> None:
        """Stop writing after at most ``flush`` seconds spent sending what is queued."""
        if self._closing:
            return
        self._closing = True
        self._wake.set()
        if flush > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), flush)
        flushed = self._task.done() and not self._task.cancelled()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        if flushed and not self._queue:
            self.writer.close()  # the transport sends what it still holds, then closes
        else:
            self.writer.transport.abort()

    def _flush_dropped(self) -> None:
        if self._dropped:
            self._queue.append(_event("dropped", {"count": self._dropped}))
            self._dropped = 0

    def _pop(self) -> bytes | None:
        if not self._queue:
            self._flush_dropped()  # caught up: say what was lost before anything else
        if not self._queue:
            return None
        item = self._queue.popleft()
        return self._latest.pop(item) if isinstance(item, str) else item

    async def _write_loop(self) -> None:
        try:
            while (message := await self._next()) is not None:
                if self.writer.is_closing():  # the client went away: writing would only log
                    return
                self.writer.write(message)
                if self.writer.transport.get_write_buffer_size():  # the socket is full
                    async with asyncio.timeout(self._stuck_timeout):
                        await self.writer.drain()
                self._progress.set()
        except TimeoutError:
            log.warning("control socket: a client read nothing for %.0f s, disconnected",
                        self._stuck_timeout)
            self.writer.transport.abort()
        except (ConnectionError, OSError):
            pass  # the client went away; the request loop sees it too
        finally:
            self._progress.set()  # release wait_for_room

    async def _next(self) -> bytes | None:
        """The next message to write, waiting for one; None once closing and empty."""
        while (message := self._pop()) is None:
            if self._closing:
                return None
            self._wake.clear()
            await self._wake.wait()
        return message


class ControlServer:
    """The service end of the control socket: answers requests, fans events out.

    Runs in the supervisor's event loop; ``publish`` must be called from it.
    """

    def __init__(self, path: Path, handler: Handler, *, buffer_limit: int = 1000,
                 stuck_timeout: float = STUCK_TIMEOUT) -> None:
        self.path = Path(path)
        self._handler = handler
        self._buffer_limit = buffer_limit
        self._stuck_timeout = stuck_timeout
        self._server: asyncio.Server | None = None
        self._inode: int | None = None
        self._clients: dict[asyncio.Task[None], _Outbox] = {}
        self._closing = False

    async def start(self) -> None:
        """Listen on ``path``, replacing a stale socket file (the caller holds the lock)."""
        sock = _bind(self.path)
        self._inode = os.stat(self.path).st_ino
        self._server = await asyncio.start_unix_server(self._serve, sock=sock, limit=MAX_REQUEST)

    def publish(self, kind: str, data: dict[str, Any], *, now: float | None = None) -> None:
        """Queue an event for every subscriber; never waits, never fails for a client."""
        if kind not in REPLACEABLE and kind not in APPENDED:
            raise ValueError(f"unknown event kind {kind!r}")
        subscribers = [outbox for outbox in self._clients.values() if outbox.subscribed]
        if subscribers:
            message = _event(kind, data, now)
            for outbox in subscribers:
                outbox.push_event(kind, message)

    def publish_event(self, event: Event, *, now: float | None = None) -> None:
        """Queue ``event`` (encoded here, at the socket) for every subscriber."""
        if self.subscriber_count:
            self.publish(event.kind, event.data(), now=now)

    @property
    def subscriber_count(self) -> int:
        return sum(outbox.subscribed for outbox in self._clients.values())

    async def close(self) -> None:
        """Stop accepting, send clients what is queued (briefly), drop them, remove the file."""
        self._closing = True
        if self._server is not None:
            self._server.close()
        await asyncio.gather(*(outbox.close(flush=CLOSE_FLUSH)
                               for outbox in self._clients.values()))
        tasks = list(self._clients)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(OSError):
            if os.stat(self.path).st_ino == self._inode:
                self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        outbox = self._clients[task] = _Outbox(writer, self._buffer_limit, self._stuck_timeout)
        try:
            await self._read_requests(reader, outbox)
        except (ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            if not self._closing:
                raise
            # Cancelled by close(): end normally, as Python 3.11's stream callback
            # logs a spurious error for a cancelled connection task.
        finally:
            del self._clients[task]
            await outbox.close(flush=CLOSE_FLUSH)

    async def _read_requests(self, reader: asyncio.StreamReader, outbox: _Outbox) -> None:
        while True:
            await outbox.wait_for_room()
            try:
                line = await reader.readuntil(b"\n")
            except asyncio.IncompleteReadError as end:  # EOF; a last unterminated line counts
                if end.partial.strip():
                    await self._answer(end.partial, outbox)
                return
            except asyncio.LimitOverrunError:
                outbox.send(_reply(None, error=f"request longer than {MAX_REQUEST} bytes; "
                                               "closing the connection"))
                return
            if line.strip():
                await self._answer(line, outbox)

    async def _answer(self, line: bytes, outbox: _Outbox) -> None:
        ident: Any = None
        request: Request | None = None
        try:
            message = parse(line)
            ident = message.get("id")
            request = decode_request(check_version(message))
            reply = _reply(ident, await self._call(request))
        except (ControlError, ProtocolError) as error:
            request, reply = None, _reply(ident, error=str(error))
        except Exception as error:
            text = f"internal error: {type(error).__name__}: {error}"
            log.warning("control socket: %s (op %r)", text,
                        request.op.value if request is not None else None)
            request, reply = None, _reply(ident, error=text)
        outbox.send(reply)
        if isinstance(request, SubscribeRequest):
            outbox.subscribed = True  # no await since the snapshot was made: no event is lost

    async def _call(self, request: Request) -> dict[str, Any] | Wire:
        if isinstance(request, SubscribeRequest):
            return await self._handler(SnapshotRequest())
        return await self._handler(request)


def _bind(path: Path) -> socket.socket:
    """A bound, not yet listening socket at ``path``, mode 0660 before anyone can connect."""
    try:
        if stat.S_ISSOCK(os.lstat(path).st_mode):
            path.unlink()  # a killed service's socket: the lock says nobody owns it now
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        mask = os.umask(0o117)
        try:
            sock.bind(os.fspath(path))
        finally:
            os.umask(mask)
        os.chmod(path, SOCKET_MODE)
    except OSError as error:
        sock.close()
        raise OSError(error.errno, f"cannot create control socket {path}: "
                                   f"{error.strerror or error}") from error
    return sock
