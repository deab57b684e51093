"""Bad datagrams and control-socket abuse against a running service: each is refused
with a log line naming the sender or the file; the service goes on, nothing gets in."""

from __future__ import annotations

import json
import socket
import time

import pytest

from tests.service_harness import dataman_health, frames, wait_until

pytestmark = pytest.mark.slow
REFUSED = "refused: log line names sender + reason; nothing journaled"


def test_bad_datagrams(service_factory, campaign):
    service = service_factory(server={"allowedSenders": "127.0.0.1, ::1"},
                              service={"waitForWrite": 1}).start()
    data = service.config.paths.data_dir
    good, elsewhere, late = frames(service, 3)
    outside = service.folder / "outside"
    outside.mkdir()
    (outside / elsewhere.name).write_bytes(elsewhere.read_bytes())
    elsewhere.unlink()  # only the copy outside dataDir exists
    target = outside / "secret.fits"
    target.write_bytes(good.read_bytes())
    (data / "mods1b" / "mods1b.20251230.0099.fits").symlink_to(target)
    cases = {
        "empty": (b"", "empty datagram"),
        "64 KiB": (b"proc " + b"x" * 65_000, "datagram of 65005 bytes, more than 1024"),
        "invalid UTF-8": (b"proc \xff\xfe.fits", "not UTF-8"),
        "unknown command": (b"frobnicate now", "unknown command 'frobnicate'"),
        "proc without a name": (b"proc", "'proc' without a file name"),
        "proc ../../etc/passwd": (b"proc ../../etc/passwd", "'passwd' is not a raw frame"),
        "name not matching the raw pattern": (b"proc /data/notes.txt", "'notes.txt' is not"),
        "symlink in dataDir pointing outside": (b"proc mods1b.20251230.0099.fits",
                                                "resolves to"),
    }
    for payload, _ in cases.values():
        service.send_raw(payload)
    service.send_raw(f"proc {good}".encode(), source="127.0.0.3")
    service.send(outside / elsewhere.name)  # an absolute path outside dataDir
    late_target = outside / "late.fits"
    late.rename(late_target)  # not there when its datagram comes...
    service.send(late)
    wait_until(lambda: f"{late.name}: waiting for the raw file" in service.log_text(), 10,
               what="the late frame to wait")
    (data / "mods1b" / late.name).symlink_to(late_target)  # ...then a symlink to outside
    names = [elsewhere.name, late.name]
    campaign.settle(service, names)
    log, states = service.log_text(), service.states()
    results = []
    for case, (_, text) in cases.items():
        ok = text in log and "127.0.0.1:" in log and "mods1b.20251230.0099.fits" not in states
        results.append(campaign.conclude(f"datagram: {case}", REFUSED, f"logged: ...{text}...",
                                         campaign.count(service, []), ok, check=False))
    ok = "from 127.0.0.3:" in log and "sender not in allowedSenders" in log
    results.append(campaign.conclude("datagram: sender not allowed", REFUSED,
                                     "logged 'from 127.0.0.3:...: sender not in "
                                     "allowedSenders'", campaign.count(service, []), ok,
                                     check=False))
    for name, case, text in ((elsewhere.name, "absolute path outside dataDir", "not found"),
                             (late.name, "symlink to outside made after the datagram",
                              "outside dataDir")):
        tally = campaign.count(service, [name])
        reason = tally.reasons.get(name, "")
        results.append(campaign.conclude(
            f"datagram: {case}", "only <dataDir>/<chan>/<base name> is read; fails",
            f"failed: {reason[:110]}", tally, text in reason and tally.failed == 1,
            check=False))
    assert not list(service.config.paths.repo_dir.glob("*.fits"))
    assert all(results)
    service.check_alive()


def control_lines(path, lines: list[bytes], replies: int) -> list[dict]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(str(path))
        sock.sendall(b"".join(lines))
        received = b""
        while received.count(b"\n") < replies:
            received += sock.recv(65536)
    return [json.loads(line) for line in received.splitlines()[:replies]]


def test_control_socket_abuse(service_factory, campaign):
    service = service_factory().start()
    path = service.socket_path
    answers = control_lines(path, [b"{not json\n", b'{"v": 1, "id": 2, "op": "frobnicate"}\n',
                                   b'{"v": 1, "id": 3, "op": "snapshot"}\n'], 3)
    errors = [answer.get("error", "") for answer in answers[:2]]
    campaign.conclude("control: malformed JSON", "error reply, connection stays usable",
                      f"reply {errors[0][:60]!r}; next request answered",
                      campaign.count(service, []),
                      errors[0].startswith("malformed JSON") and answers[2]["ok"])
    campaign.conclude("control: unknown request", "error reply", f"reply {errors[1]!r}",
                      campaign.count(service, []), errors[1] == "unknown op 'frobnicate'")

    stuck = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # subscribes, never reads
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect(str(path))
    stuck.sendall(b'{"v": 1, "id": 1, "op": "subscribe"}\n')
    consoles = [_subscriber(path) for _ in range(2)]
    raws = frames(service, 30)
    for raw in raws:
        service.send(raw)
    names = [raw.name for raw in raws]
    health, health_time = dataman_health(service.config_path)
    campaign.settle(service, names)
    seen = [_frames_seen(console, set(names)) for console in consoles]
    stuck.close()
    tally = campaign.count(service, names)
    campaign.conclude("control: a client that never reads",
                      "service not blocked, frames delivered, health answers",
                      f"30 frames delivered while it sat; health exit {health.returncode} in "
                      f"{health_time:.2f} s", tally,
                      tally.delivered == 30 and health.returncode in (0, 1))
    campaign.conclude("control: a second console", "both get every event",
                      f"consoles saw {seen[0]} and {seen[1]} of 30 frame events",
                      campaign.count(service, []), seen == [30, 30])


def _subscriber(path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(path))
    sock.sendall(b'{"v": 1, "id": 1, "op": "subscribe"}\n')
    return sock


def _frames_seen(sock: socket.socket, names: set[str]) -> int:
    """Frame events for ``names`` read from a subscriber until all came or 10 s passed."""
    seen, buffer, deadline = set(), b"", time.monotonic() + 10
    sock.settimeout(1)
    while seen != names and time.monotonic() < deadline:
        try:
            chunk = sock.recv(1 << 20)
        except TimeoutError:
            continue
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            message = json.loads(line)
            if message.get("event") == "frame" and message["data"]["name"] in names:
                seen.add(message["data"]["name"])
    sock.close()
    return len(seen)
