"""The control socket: real Unix sockets, real clients, including ones that misbehave."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import stat
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from dataman.ipc.connection import ControlConnection
from dataman.ipc.control import (
    MAX_REQUEST,
    ControlError,
    ControlUnavailable,
    decode,
    encode,
    request,
)
from dataman.ipc.control_server import ControlServer
from dataman.ipc.protocol_requests import (
    PauseRequest,
    Request,
    RetryRequest,
    SnapshotRequest,
    StopRequest,
    SubscribeRequest,
)

SNAPSHOT = {"service": {"state": "running", "pid": 4242},
            "counts": {"queued": 0, "running": 0, "processed": 3, "delivered": 3, "failed": 0}}
PAD = "x" * 10_000  # big events fill the socket buffers of a client that does not read


async def handler(request: Request) -> dict[str, Any]:
    if isinstance(request, SnapshotRequest):
        return SNAPSHOT
    if isinstance(request, RetryRequest):
        return {"retried": request.name}
    if isinstance(request, PauseRequest):
        raise ControlError("already paused")
    if isinstance(request, StopRequest):
        raise RuntimeError("boom")
    return {}


@pytest.fixture
def sock_path(short_dir: Path) -> Path:
    """A socket path well under the 108-byte AF_UNIX limit, whatever tmp_path is."""
    return short_dir / "dataman.sock"


@contextlib.asynccontextmanager
async def serving(path: Path, **options: Any) -> AsyncIterator[ControlServer]:
    server = ControlServer(path, handler, **options)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


async def raw_exchange(path: Path, payload: bytes) -> dict[str, Any]:
    """Send raw bytes, return the first decoded reply."""
    reader, writer = await asyncio.open_unix_connection(os.fspath(path))
    try:
        writer.write(payload)
        await writer.drain()
        async with asyncio.timeout(5):
            return decode(await reader.readline())
    finally:
        writer.close()


class StuckClient:
    """A subscriber that reads nothing until told to: a plain non-blocking socket.

    (An asyncio stream would keep reading into its own buffer in the background.)
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    @classmethod
    async def subscribe(cls, path: Path) -> StuckClient:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setblocking(False)
        client = cls(sock)
        loop = asyncio.get_running_loop()
        await loop.sock_connect(sock, os.fspath(path))
        await loop.sock_sendall(sock, encode({"id": 1, "op": "subscribe"}))
        assert (await client.message())["result"] == SNAPSHOT
        return client

    async def message(self) -> dict[str, Any]:
        while b"\n" not in self.buffer:
            chunk = await asyncio.get_running_loop().sock_recv(self.sock, 1 << 20)
            assert chunk, "the service closed the connection"
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return decode(line)

    async def events(self, until: Callable[[list[dict[str, Any]]], bool]) -> list[dict]:
        """Read events until ``until(events so far)`` holds."""
        events: list[dict[str, Any]] = []
        async with asyncio.timeout(10):
            while not events or not until(events):
                events.append(await self.message())
        return events


def test_encode_then_decode_gives_the_message_back_with_the_version():
    line = encode({"type": "event", "event": "log", "data": {"message": "two\nlines"}})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode(line) == {"v": 1, "type": "event", "event": "log",
                            "data": {"message": "two\nlines"}}


@pytest.mark.parametrize(("line", "error"), [
    (b'{"op": "snapshot"}', "missing protocol version 'v'"),
    (b'{"v": 2, "op": "snapshot"}',
     "dataMan service speaks control protocol 2, this client speaks 1: upgrade this client"),
    (b'{"v": 0, "op": "snapshot"}', "dataMan service speaks control protocol 0, this client "
                                    "speaks 1: upgrade the dataMan service"),
    (b'{"v": true, "op": "snapshot"}', "dataMan service speaks control protocol True, this "
                                       "client speaks 1: upgrade the dataMan service"),
    (b"[1, 2]", "not a JSON object but list"),
    (b"{nope", "malformed JSON: Expecting property name enclosed in double quotes: "
               "line 1 column 2 (char 1)"),
    (b'{"v": 1, "op": "\xff"}', "not UTF-8 (invalid byte at offset 16)"),
])
def test_decode_says_what_is_wrong(line: bytes, error: str):
    with pytest.raises(ControlError) as raised:
        decode(line)
    assert str(raised.value) == error


def test_request_returns_the_result_and_passes_the_fields(sock_path: Path):
    async def scenario():
        async with serving(sock_path):
            snapshot = await asyncio.to_thread(request, sock_path, SnapshotRequest())
            retried = await asyncio.to_thread(request, sock_path, RetryRequest("a.fits"))
            return snapshot, retried

    assert asyncio.run(scenario()) == (SNAPSHOT, {"retried": "a.fits"})


def test_a_refused_request_raises_control_error_with_the_handlers_words(sock_path: Path):
    async def scenario():
        async with serving(sock_path):
            with pytest.raises(ControlError, match=r"^already paused$"):
                await asyncio.to_thread(request, sock_path, PauseRequest())

    asyncio.run(scenario())


def test_a_handler_crash_is_an_internal_error_reply_and_one_warning_line(sock_path: Path):
    records: list[logging.LogRecord] = []
    collector = logging.Handler()
    collector.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("dataman").addHandler(collector)

    async def scenario():
        async with serving(sock_path):
            async with asyncio.timeout(5):
                connection = await ControlConnection.open(sock_path)
                with pytest.raises(ControlError, match=r"^internal error: RuntimeError: boom$"):
                    await connection.request(StopRequest())
                assert await connection.request(SnapshotRequest()) == SNAPSHOT  # still serving
                await connection.close()

    try:
        asyncio.run(scenario())
    finally:
        logging.getLogger("dataman").removeHandler(collector)
    assert [(r.levelno, r.getMessage(), r.exc_info) for r in records] == [
        (logging.WARNING, "control socket: internal error: RuntimeError: boom (op 'stop')",
         None)]


@pytest.mark.parametrize(("payload", "reply"), [
    (b"{nope\n", {"id": None, "error": "malformed JSON: Expecting property name enclosed in "
                                       "double quotes: line 1 column 2 (char 1)"}),
    (b'"snapshot"\n', {"id": None, "error": "not a JSON object but str"}),
    (b'{"id": 3, "op": "snapshot"}\n', {"id": 3, "error": "missing protocol version 'v'"}),
    (b'{"v": 9, "id": 3, "op": "snapshot"}\n',
     {"id": 3, "error": "unsupported protocol version 9 (this side speaks 1)"}),
    (b'{"v": 1, "id": 4}\n', {"id": 4, "error": "missing 'op'"}),
    (b'{"v": 1, "id": 5, "op": "frobnicate"}\n', {"id": 5, "error": "unknown op 'frobnicate'"}),
    (b'{"v": 1, "id": 7, "op": "retry"}\n', {"id": 7, "error": "retry.name: missing"}),
    (b'{"v": 1, "id": 8, "op": "process", "path": 5}\n',
     {"id": 8, "error": "process.path: expected str, got int"}),
    (b'{"v": 1, "id": 9, "op": 12}\n', {"id": 9, "error": "unknown op 12"}),
    (b'{"v": 1, "id": 6, "op": "\xe9"}\n', {"id": None,
                                            "error": "not UTF-8 (invalid byte at offset 25)"}),
])
def test_a_bad_request_gets_an_error_reply(sock_path: Path, payload: bytes, reply: dict):
    async def scenario():
        async with serving(sock_path):
            return await raw_exchange(sock_path, payload)

    assert asyncio.run(scenario()) == {"v": 1, "type": "reply", "ok": False, **reply}


def test_an_over_long_request_is_refused_and_the_connection_closed(sock_path: Path):
    async def scenario():
        async with serving(sock_path):
            reader, writer = await asyncio.open_unix_connection(os.fspath(sock_path),
                                                                limit=2 * MAX_REQUEST)
            fits = encode({"id": 1, "op": "retry", "name": ""})
            fits = fits.replace(b'""', b'"' + b"x" * (MAX_REQUEST + 1 - len(fits)) + b'"')
            writer.write(fits + fits[:-1] + b"y\n")  # exactly MAX_REQUEST, then one more
            async with asyncio.timeout(5):
                first, second, end = [await reader.readline() for _ in range(3)]
            writer.close()
            return decode(first), decode(second), end

    first, second, end = asyncio.run(scenario())
    assert first["ok"] and first["result"]["retried"].startswith("xxx")
    assert second == {"v": 1, "type": "reply", "id": None, "ok": False,
                      "error": f"request longer than {MAX_REQUEST} bytes; "
                               "closing the connection"}
    assert end == b""


def test_subscribe_replies_the_snapshot_then_events_follow_in_order(sock_path: Path):
    async def scenario():
        async with serving(sock_path) as server:
            connection = await ControlConnection.open(sock_path)
            assert await connection.request(SubscribeRequest()) == SNAPSHOT
            assert server.subscriber_count == 1
            server.publish("counts", {"queued": 1}, now=1767064366.5)
            server.publish("frame", {"name": "a.fits"}, now=1767064367.0)
            async with asyncio.timeout(5):
                events = [await connection.next_message() for _ in range(2)]
            await connection.close()
            return events

    assert asyncio.run(scenario()) == [
        {"v": 1, "type": "event", "event": "counts", "time": 1767064366.5,
         "data": {"queued": 1}},
        {"v": 1, "type": "event", "event": "frame", "time": 1767064367.0,
         "data": {"name": "a.fits"}}]


def test_two_subscribers_and_a_plain_client_are_served_together(sock_path: Path):
    async def scenario():
        async with serving(sock_path) as server:
            consoles = [await ControlConnection.open(sock_path) for _ in range(2)]
            for console in consoles:
                await console.request(SubscribeRequest())
            assert server.subscriber_count == 2
            server.publish("log", {"message": "hello"})
            health = await asyncio.to_thread(request, sock_path, SnapshotRequest())
            async with asyncio.timeout(5):
                received = [(await console.next_message())["data"] for console in consoles]
            for console in consoles:
                await console.close()
            return health, received

    assert asyncio.run(scenario()) == (SNAPSHOT, [{"message": "hello"}] * 2)


def test_replaceable_events_are_coalesced_for_a_client_that_does_not_read(sock_path: Path):
    def caught_up(events: list[dict]) -> bool:
        newest = {e["event"]: e["data"]["n"] for e in events}
        return newest.get("queue") == newest.get("counts") == 199

    async def scenario():
        async with serving(sock_path) as server:
            client = await StuckClient.subscribe(sock_path)
            for n in range(200):  # 2 MB: far more than the socket buffers hold
                server.publish("queue", {"n": n, "pad": PAD})
                server.publish("counts", {"n": n})
                await asyncio.sleep(0)  # let the writer fill the buffers, then block
            events = await client.events(caught_up)
            client.sock.close()
            return events

    events = asyncio.run(scenario())
    for kind in ("queue", "counts"):
        numbers = [e["data"]["n"] for e in events if e["event"] == kind]
        assert numbers == sorted(set(numbers)) and numbers[-1] == 199
        assert len(numbers) < 100, "a stuck client must receive only the newest of each kind"


def test_appended_events_beyond_the_buffer_are_dropped_and_counted(sock_path: Path):
    async def scenario():
        async with serving(sock_path, buffer_limit=10) as server:
            client = await StuckClient.subscribe(sock_path)
            for n in range(500):
                server.publish("frame", {"n": n, "pad": PAD})
                await asyncio.sleep(0)
            events = await client.events(lambda events: events[-1]["event"] == "dropped")
            server.publish("frame", {"n": 500})
            events.append(await client.message())
            client.sock.close()
            return events

    *frames, dropped, after = asyncio.run(scenario())
    received = [e["data"]["n"] for e in frames]
    assert received == list(range(len(received))) and len(received) < 100
    assert dropped["event"] == "dropped"
    assert dropped["data"] == {"count": 500 - len(received)}
    assert after["data"] == {"n": 500}


def test_a_client_that_never_reads_blocks_neither_publish_nor_other_clients(sock_path: Path):
    async def scenario():
        async with serving(sock_path) as server:
            stuck = await StuckClient.subscribe(sock_path)
            console = await ControlConnection.open(sock_path)
            await console.request(SubscribeRequest())
            # publish is synchronous: were it to wait for the stuck client, this loop
            # would never end (the suite's timeout); the stuck client never reads.
            for n in range(1000):  # 10 MB in total
                server.publish("frame", {"n": n, "pad": PAD})
                server.publish("workers", {"n": n, "pad": PAD})
                if n % 10 == 0:
                    await asyncio.sleep(0)
            reply = await asyncio.to_thread(request, sock_path, SnapshotRequest())
            frames = []
            async with asyncio.timeout(10):
                while len(frames) < 1000:
                    event = await console.next_message()
                    assert event["event"] != "dropped"
                    if event["event"] == "frame":
                        frames.append(event["data"]["n"])
            await console.close()
            stuck.sock.close()
            return reply, frames

    reply, frames = asyncio.run(scenario())
    assert reply == SNAPSHOT
    assert frames == list(range(1000))


def test_a_stuck_subscriber_is_disconnected_after_the_stuck_timeout(sock_path: Path):
    async def scenario():
        async with serving(sock_path, stuck_timeout=0.3) as server:
            client = await StuckClient.subscribe(sock_path)
            for n in range(100):
                server.publish("frame", {"n": n, "pad": PAD})
                await asyncio.sleep(0)
            async with asyncio.timeout(10):
                while server.subscriber_count:
                    await asyncio.sleep(0.05)
            client.sock.close()

    asyncio.run(scenario())


def test_next_event_raises_when_the_service_goes_away(sock_path: Path):
    async def scenario():
        server = ControlServer(sock_path, handler)
        await server.start()
        connection = await ControlConnection.open(sock_path)
        await connection.request(SubscribeRequest())
        await server.close()
        async with asyncio.timeout(5):
            for _ in range(2):  # and keeps raising
                with pytest.raises(ControlUnavailable, match="closed"):
                    await connection.next_message()
        with pytest.raises(ControlUnavailable):
            await connection.request(SnapshotRequest())
        await connection.close()

    asyncio.run(scenario())


class NoWriter:
    """The write side of a connection whose replies are not under test."""

    def close(self) -> None:
        pass

    async def wait_closed(self) -> None:
        pass


def test_a_connection_holds_few_events_dropping_superseded_then_oldest_appended():
    def event(kind: str, **data: Any) -> bytes:
        return encode({"type": "event", "event": kind, "time": 1767064366.0, "data": data})

    async def scenario():
        reader = asyncio.StreamReader()
        for line in [event("dropped", count=7), event("frame", n=0), event("counts", n=1),
                     *(event("frame", n=n) for n in range(1, 7)),
                     event("counts", n=2), event("frame", n=7)]:
            reader.feed_data(line)
        reader.feed_eof()  # the reader task takes all of it before next_event first runs
        connection = ControlConnection(reader, NoWriter(), event_limit=8)  # type: ignore[arg-type]
        received = []
        with pytest.raises(ControlUnavailable, match="closed by the service"):
            while True:
                received.append(await connection.next_message())
        await connection.close()
        return received

    # 11 events for 8 places (more than the 7 replaceable kinds): the service's "dropped"
    # (7 lost) goes first, then counts 1 (counts 2 supersedes it, nothing lost), then
    # frame 0 (one more lost).
    dropped, *rest = asyncio.run(scenario())
    assert dropped["event"] == "dropped" and dropped["data"] == {"count": 7 + 1}
    assert [(e["event"], e["data"]["n"]) for e in rest] == [
        ("frame", 1), ("frame", 2), ("frame", 3), ("frame", 4), ("frame", 5), ("frame", 6),
        ("counts", 2), ("frame", 7)]


def test_the_socket_file_is_0660_whatever_the_umask(sock_path: Path):
    async def scenario():
        async with serving(sock_path):
            return stat.S_IMODE(os.stat(sock_path).st_mode)

    previous = os.umask(0)
    try:
        assert asyncio.run(scenario()) == 0o660
        assert os.umask(0) == 0, "the umask must be restored"
    finally:
        os.umask(previous)


def test_a_stale_socket_file_is_replaced_and_close_removes_it(sock_path: Path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as old:
        old.bind(os.fspath(sock_path))  # a killed service leaves this behind
    with pytest.raises(ControlUnavailable, match=r"^connection refused on "):
        request(sock_path, SnapshotRequest())

    async def scenario():
        async with serving(sock_path):
            return await asyncio.to_thread(request, sock_path, SnapshotRequest())

    assert asyncio.run(scenario()) == SNAPSHOT
    assert not sock_path.exists()
    with pytest.raises(ControlUnavailable, match=r"^no socket file "):
        request(sock_path, SnapshotRequest())


def test_a_file_that_is_not_a_socket_is_left_alone(sock_path: Path):
    sock_path.write_text("precious")
    with pytest.raises(OSError, match="cannot create control socket"):
        asyncio.run(ControlServer(sock_path, handler).start())
    assert sock_path.read_text() == "precious"


def test_request_to_a_silent_service_gives_up_after_the_timeout(sock_path: Path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:
        silent.bind(os.fspath(sock_path))
        silent.listen()  # the kernel accepts the connection; nobody ever answers
        begun = time.monotonic()
        with pytest.raises(ControlUnavailable, match=r"^no reply within 0.3 s$"):
            request(sock_path, SnapshotRequest(), timeout=0.3)
        assert time.monotonic() - begun >= 0.3  # it waited its whole timeout


def test_request_to_a_service_that_hangs_up_says_so(sock_path: Path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as rude:
        rude.bind(os.fspath(sock_path))
        rude.listen()

        async def hang_up() -> None:
            connection, _ = await asyncio.to_thread(rude.accept)
            connection.close()

        async def scenario() -> None:
            closer = asyncio.create_task(hang_up())
            with pytest.raises(ControlUnavailable,
                               match=r"^connection closed by the service before its reply$"):
                await asyncio.to_thread(request, sock_path, SnapshotRequest(), timeout=5)
            await closer

        asyncio.run(scenario())


def test_messages_are_one_json_object_per_line():
    line = encode({"id": 1, "op": "retry", "name": "mods1b.20251230.0143.fits"})
    assert json.loads(line) == {"v": 1, "id": 1, "op": "retry",
                                "name": "mods1b.20251230.0143.fits"}


def test_request_to_a_service_whose_backlog_is_full_fails_at_once(sock_path: Path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as hung:
        hung.bind(os.fspath(sock_path))
        hung.listen(0)  # one pending connection fills it: a hung service after many checks
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as first:
            first.connect(os.fspath(sock_path))
            with pytest.raises(ControlUnavailable, match=r": connection backlog full, "):
                request(sock_path, SnapshotRequest(), timeout=5)


def test_the_reply_to_stop_arrives_although_the_server_closes_at_once(sock_path: Path):
    async def scenario():
        server: ControlServer

        async def stop_at_once(request: Request) -> dict[str, Any]:
            closing.append(asyncio.create_task(server.close()))
            return {"state": "stopping"}

        closing: list[asyncio.Task[None]] = []
        server = ControlServer(sock_path, stop_at_once)
        await server.start()
        connection = await ControlConnection.open(sock_path)
        reply = await connection.request(StopRequest())
        await asyncio.gather(*closing)
        await connection.close()
        return reply

    assert asyncio.run(scenario()) == {"state": "stopping"}
    assert not sock_path.exists()


def test_a_subscriber_that_vanishes_with_events_queued_leaves_no_noise(sock_path: Path):
    records: list[logging.LogRecord] = []
    collector = logging.Handler(logging.DEBUG)
    collector.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("asyncio").addHandler(collector)

    async def scenario():
        async with serving(sock_path) as server:
            client = await StuckClient.subscribe(sock_path)
            client.sock.close()
            for n in range(20):
                server.publish("frame", {"n": n})
            async with asyncio.timeout(10):
                while server.subscriber_count:
                    await asyncio.sleep(0.01)

    try:
        asyncio.run(scenario())
    finally:
        logging.getLogger("asyncio").removeHandler(collector)
    assert [r.getMessage() for r in records if r.levelno >= logging.WARNING] == []
