"""Only allowed senders and well-formed requests for files inside dataDir get in (item 6)."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dataman.ipc.control import ControlError, decode, encode
from dataman.ipc.protocol_events import FrameRefused, decode_event
from dataman.ipc.protocol_requests import ProcessRequest
from tests.service_harness import frames

pytestmark = pytest.mark.slow


def test_bad_datagrams_are_logged_dropped_and_the_service_goes_on(service_factory):
    service = service_factory(server={"allowedSenders": "127.0.0.1, 127.0.0.2"}).start()
    data_dir = service.config.paths.data_dir
    good = frames(service, 1)[0]
    outside = service.folder / "mods1b.20251230.0077.fits"
    outside.write_bytes(good.read_bytes())
    (data_dir / "mods1b" / "mods1b.20251230.0099.fits").symlink_to(outside)
    cases = {
        b"proc " + b"x" * 2000: "datagram of 2005 bytes, more than 1024",
        b"proc \xff\xfe.fits": "not UTF-8",
        b"": "empty datagram",
        b"frobnicate now": "unknown command 'frobnicate'",
        b"proc": "'proc' without a file name",
        b"proc ../../etc/passwd": "'passwd' is not a raw frame name",
        b"proc /etc/mods1b.20251230.0005.fits": None,  # only the base name counts: not there
        b"proc mods1b.20251230.0099.fits": "outside dataDir",
        b"proc notes.txt": "'notes.txt' is not a raw frame name",
    }
    for payload in cases:
        service.send_raw(payload)
    service.send_raw(f"proc {good}".encode(), source="127.0.0.3")  # not allowed
    service.send(good, source="127.0.0.2")
    service.wait_states([good.name])
    log = service.log_text()
    for expected in filter(None, cases.values()):
        assert expected in log, expected
    assert "from 127.0.0.3:" in log and "sender not in allowedSenders" in log
    assert "mods1b.20251230.0099.fits" not in service.states()
    assert set(service.states()) == {good.name, "mods1b.20251230.0005.fits"}
    assert [p.name for p in service.config.paths.repo_dir.glob("*.fits")] == [good.name]
    service.check_alive()


def test_the_console_process_request_obeys_the_same_rules(service_factory):
    service = service_factory().start()
    with pytest.raises(ControlError, match="not a raw frame name"):
        service.control(ProcessRequest("/etc/passwd"))
    raw = frames(service, 1)[0]
    assert service.control(ProcessRequest(str(raw))) == {"name": raw.name}
    service.wait_states([raw.name])
    assert service.record(raw.name)["source"] == "console"


def test_dataman_send_quit_stops_the_service(service_factory):
    service = service_factory().start()
    subprocess.run([sys.executable, "-m", "dataman.cli", "send", "quit", "-c",
                    str(service.config_path)], check=True, timeout=30)
    assert service.process.wait(30) == 0
    assert "quit from 127.0.0.1" in service.log_text()
    assert not os.path.exists(service.socket_path)


def test_a_single_allowed_sender_without_a_comma_starts_and_is_obeyed(service_factory):
    service = service_factory(server={"allowedSenders": "127.0.0.2"}).start()
    raw = frames(service, 1)[0]
    service.send(raw, source="127.0.0.1")  # not the one allowed host
    service.send(raw, source="127.0.0.2")
    service.wait_states([raw.name])
    assert re.search(r"datagram rejected from 127\.0\.0\.1:\d+: sender not in allowedSenders",
                     service.log_text())
    assert service.record(raw.name)["source"] == "datagram"
    service.send_raw(b"quit", source="127.0.0.2")
    assert service.process.wait(30) == 0
    assert "quit from 127.0.0.2:" in service.log_text()


class Subscriber:
    """A raw subscriber of the control socket, reading messages as they come."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(str(path))
        self.sock.settimeout(0.5)
        self.buffer = b""
        self.sock.sendall(encode({"id": 1, "op": "subscribe"}))
        self.read_until(lambda message: message["type"] == "reply", 1)

    def read_until(self, wanted: Callable[[dict[str, Any]], bool],
                   count: int) -> list[dict[str, Any]]:
        """The first ``count`` messages that are ``wanted``, read within 10 s."""
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + 10
        while len(found) < count and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                self.buffer += self.sock.recv(1 << 20)
            *lines, self.buffer = self.buffer.split(b"\n")
            found += [message for message in map(decode, lines) if wanted(message)]
        return found


def refused_events(subscriber: Subscriber, count: int) -> list[FrameRefused]:
    messages = subscriber.read_until(
        lambda message: message["type"] == "event" and message["event"] == "refused", count)
    events = [decode_event(message) for message in messages]
    assert all(isinstance(event, FrameRefused) for event in events)
    return events  # type: ignore[return-value]


def test_a_repeated_request_is_refused_with_an_event_each_time(service_factory):
    """The demo learns that a frame will not be processed from this event, not from the
    log (whose repeat lines are written only once in a while)."""
    service = service_factory().start()
    raw = frames(service, 1)[0]
    service.send(raw)
    service.wait_states([raw.name])
    delivered = service.record(raw.name)["delivered_path"]
    subscriber = Subscriber(service.socket_path)
    with subscriber.sock:
        for _ in range(3):
            service.send(raw)
        refused = refused_events(subscriber, 3)
    assert [(event.name, event.reason) for event in refused] == [
        (raw.name, f"already delivered {delivered}; not processed again")] * 3
    assert all(event.origin.startswith("127.0.0.1:") for event in refused)
    assert service.log_text().count("not processed again") == 1  # the log is spared
    service.check_alive()
