"""The control socket: how ``dataman-console`` and ``dataman health`` talk to the service.

A Unix stream socket (``[server] controlSocket``, relative to stateDir, mode
0660) carrying JSON lines: one UTF-8 JSON object per line, ``\\n``-terminated.
Every message has ``"v": 1`` (``PROTOCOL_VERSION``).

Requests (client → service), at most ``MAX_REQUEST`` bytes per line::

    {"v": 1, "id": 7, "op": "snapshot"}
    {"v": 1, "id": 8, "op": "subscribe"}          reply = snapshot, then events follow
    {"v": 1, "id": 9, "op": "pause"} / "resume" / "stop"
    {"v": 1, "id": 10, "op": "retry", "name": "mods1b.20251230.0143.fits"}
    {"v": 1, "id": 11, "op": "process", "path": "/home/data/mods1b/mods1b.20251230.0143.fits"}

Replies (service → client), ``id`` echoed::

    {"v": 1, "type": "reply", "id": 7, "ok": true, "result": {...}}
    {"v": 1, "type": "reply", "id": 9, "ok": false, "error": "unknown op 'frobnicate'"}

Events (service → subscribers), ``time`` in UTC epoch seconds::

    {"v": 1, "type": "event", "event": "<kind>", "time": 1767064366.1, "data": {...}}

Event kinds and ``data``; the sections are those of the snapshot (see below):

* replaceable (a newer one makes an older one of the same kind worthless, so a
  subscriber that falls behind gets only the latest): ``service``, ``counts``,
  ``queue``, ``workers``, ``transfers``, ``health`` — ``data`` is that whole section;
* appended (each one counts): ``frame`` — ``data`` is one item of ``recent``, sent
  whenever a frame finishes (delivered, waiting for delivery, or failed); ``log`` —
  ``data`` is one item of ``log``; ``dropped`` — ``{"count": n}``, the number of
  appended events this subscriber lost because it did not read fast enough.

The snapshot (``result`` of ``snapshot`` and ``subscribe``)::

    service   {state: running|paused|stopping, pid, started_at, hostid, config, version,
               log_file, workers_expected}
    counts    {queued, running, processed, delivered, failed}  this observing night
    queue     [{name, channel, source: datagram|scan|console, requested_at,
                not_before: epoch|null, reason: str|null}]       in dispatch order, <= 200
    workers   [{index, pid, state: starting|idle|busy|stopping|exited, frame, step,
                step_started, job_started, frames_done, cpu_percent, rss}]
    recent    [{name, instrument, roi, binning, timings: {read, fixes, otm, write, deliver},
                latency, processed, delivered, result: ok|warning|waiting|failed,
                reason, warnings: [str], finished_at}]           newest first, <= 100
    transfers {repo_dir, repo_reachable, repo_reason, proc_free, repo_free,
               last: {"MODS1B": "mods1b.20251230.0143.fits", ...},
               awaiting_delivery: [name], next_retry_at}
    log       [{time, level, message}]                           oldest first, <= 200
    last      {name, latency, delivered_at} | null               last delivered frame
    health    {level: 0|1|2, verdict: OK|WARNING|DOWN, problems: [str]}

Bad requests get an error reply and the connection stays open: malformed JSON,
not UTF-8, not an object, missing or unknown ``v`` or ``op`` (``id`` is null
when it could not be read). A line longer than ``MAX_REQUEST`` bytes (newline
not counted) gets one and the connection is closed.

A subscriber that does not read never slows the service: its outgoing
messages wait in a bounded per-subscriber buffer where replaceable events are
coalesced and appended ones beyond the bound are dropped and counted; the
``dropped`` event comes once it has caught up, before any later event. A client
whose socket takes nothing for ``STUCK_TIMEOUT`` seconds is disconnected.

Clients: :func:`request` (one synchronous request, bounded in time, for
``dataman health`` and scripts) and :class:`ControlConnection` (asyncio, for
the console). Messages are built and parsed only by :func:`encode` and
:func:`decode`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import socket
import stat
import time
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from dataman.core.errors import DataManError

PROTOCOL_VERSION = 1
MAX_REQUEST = 64 * 1024
#: Longest message a client accepts (a full snapshot is a few hundred kB at most).
MAX_MESSAGE = 16 * 1024 * 1024
OPS = frozenset({"snapshot", "subscribe", "pause", "resume", "stop", "retry", "process"})
REPLACEABLE = frozenset({"service", "counts", "queue", "workers", "transfers", "health"})
APPENDED = frozenset({"frame", "log"})
SOCKET_MODE = 0o660
#: A client whose socket accepts nothing for this long is disconnected, seconds.
STUCK_TIMEOUT = 30.0
#: At shutdown, how long clients get to receive what is queued for them (the reply to
#: ``stop``, the last events), seconds.
CLOSE_FLUSH = 0.5

log = logging.getLogger("dataman")

Handler = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


class ControlError(DataManError):
    """A request the service refuses; the message is the ``error`` of the reply."""


class ControlUnavailable(DataManError):
    """No service answers on the control socket; the message says why."""


def encode(message: dict[str, Any]) -> bytes:
    """One JSON line, ``v`` first; ``json`` escapes every newline inside strings."""
    return json.dumps({"v": PROTOCOL_VERSION, **message}, separators=(",", ":"),
                      ensure_ascii=False).encode() + b"\n"


def decode(line: bytes | str) -> dict[str, Any]:
    """The message in one line; ControlError says precisely what is wrong with it."""
    return _check_version(_load(line))


def _load(line: bytes | str) -> dict[str, Any]:
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


def _check_version(message: dict[str, Any]) -> dict[str, Any]:
    version = message.get("v")
    if version is None:
        raise ControlError("missing protocol version 'v'")
    if type(version) is not int or version != PROTOCOL_VERSION:
        raise ControlError(f"unsupported protocol version {version!r} "
                           f"(this side speaks {PROTOCOL_VERSION})")
    return message


def _reply(ident: Any, result: dict[str, Any] | None = None, error: str | None = None) -> bytes:
    if error is not None:
        return encode({"type": "reply", "id": ident, "ok": False, "error": error})
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
        op: str | None = None
        try:
            message = _load(line)
            ident = message.get("id")
            op = _check_request(_check_version(message))
            reply = _reply(ident, await self._call(op, message))
        except ControlError as error:
            op, reply = None, _reply(ident, error=str(error))
        except Exception as error:
            text = f"internal error: {type(error).__name__}: {error}"
            log.warning("control socket: %s (op %r)", text, op)
            op, reply = None, _reply(ident, error=text)
        outbox.send(reply)
        if op == "subscribe":
            outbox.subscribed = True  # no await since the snapshot was made: no event is lost

    async def _call(self, op: str, message: dict[str, Any]) -> dict[str, Any]:
        if op == "subscribe":
            return await self._handler("snapshot", {})
        return await self._handler(op, {key: value for key, value in message.items()
                                        if key not in ("v", "id", "op")})


def _check_request(message: dict[str, Any]) -> str:
    op = message.get("op")
    if op is None:
        raise ControlError("missing 'op'")
    if not isinstance(op, str) or op not in OPS:
        raise ControlError(f"unknown op {op!r}")
    return op


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


def request(path: Path, op: str, /, *, timeout: float = 1.0, **fields: Any) -> dict[str, Any]:
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
            sock.sendall(encode({"id": 1, "op": op, **fields}))
            while True:
                message = decode(_read_line(sock, deadline, timeout))
                if message.get("type") == "reply" and message.get("id") == 1:
                    return _result(message)
        except OSError as error:
            raise ControlUnavailable(_why(error, path, timeout)) from None


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


def _result(message: dict[str, Any]) -> dict[str, Any]:
    if message.get("ok"):
        return message.get("result") or {}
    raise ControlError(str(message.get("error", "request refused")))


def _why(error: OSError, path: Path, timeout: float) -> str:
    """Why nobody answers, in the words an operator looks for."""
    if isinstance(error, FileNotFoundError):
        return f"no socket file {path}"
    if isinstance(error, ConnectionRefusedError):
        return f"connection refused on {path}"
    if isinstance(error, TimeoutError):
        return f"no reply within {timeout:g} s"
    if isinstance(error, BlockingIOError):
        return f"{path}: connection backlog full, the service accepts no connection"
    if isinstance(error, ConnectionAbortedError | ConnectionResetError):
        return "connection closed by the service before its reply"
    return f"{path}: {error.strerror or error}"


class ControlConnection:
    """An asyncio client (the console's): replies and events interleave on one connection.

    A reader task routes each reply to the request waiting for its ``id`` and
    queues events for ``next_event``.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._events: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._closed_because: str | None = None
        self._task = asyncio.create_task(self._read_loop())

    @classmethod
    async def open(cls, path: Path, *, timeout: float = 1.0) -> ControlConnection:
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_unix_connection(os.fspath(path),
                                                                    limit=MAX_MESSAGE)
        except OSError as error:
            raise ControlUnavailable(_why(error, path, timeout)) from None
        return cls(reader, writer)

    async def request(self, op: str, /, *, timeout: float = 5.0, **fields: Any) -> dict[str, Any]:
        """The ``result`` of ``op``; ControlError if refused, ControlUnavailable if no reply."""
        if self._closed_because is not None:
            raise ControlUnavailable(self._closed_because)
        ident = next(self._ids)
        future = self._pending[ident] = asyncio.get_running_loop().create_future()
        try:
            self._writer.write(encode({"id": ident, "op": op, **fields}))
            async with asyncio.timeout(timeout):
                await self._writer.drain()
                return _result(await future)
        except TimeoutError:
            raise ControlUnavailable(f"no reply to {op!r} within {timeout:g} s") from None
        except OSError as error:
            raise ControlUnavailable(f"connection lost: {error}") from None
        finally:
            self._pending.pop(ident, None)

    async def subscribe(self) -> dict[str, Any]:
        """The snapshot; from then on every event arrives through ``next_event``."""
        return await self.request("subscribe")

    async def next_event(self) -> dict[str, Any]:
        """The next whole event message; ControlUnavailable once the connection is closed."""
        event = await self._events.get()
        if event is None:
            self._events.put_nowait(None)  # every later call fails the same way
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
                self._route(decode(line))
        except (OSError, ValueError, ControlError) as error:  # ValueError: line too long
            reason = f"connection lost: {error}"
        finally:
            self._closed_because = reason
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ControlUnavailable(reason))
            self._events.put_nowait(None)

    def _route(self, message: dict[str, Any]) -> None:
        if message.get("type") == "event":
            self._events.put_nowait(message)
        elif message.get("type") == "reply":
            future = self._pending.get(message.get("id"))  # type: ignore[arg-type]
            if future is not None and not future.done():
                future.set_result(message)
