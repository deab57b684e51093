"""``dataman send``: a real UDP socket receives exactly the bytes azcam would send."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataman.ipc.client import send_datagram
from dataman.ipc.datagram import encode_proc, encode_quit
from tests.conftest import write_config

FRAME = "/home/data/mods1b/mods1b.20251230.0012.fits"


@pytest.fixture
def receiver() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5.0)
        yield sock


def dataman_send(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dataman", "send", *map(str, args)],
                          capture_output=True, text=True, check=False, timeout=60)


def test_send_proc_delivers_exactly_proc_and_the_path(receiver):
    port = receiver.getsockname()[1]
    run = dataman_send("proc", FRAME, "--host", "127.0.0.1", "--port", port)
    assert run.returncode == 0, run.stderr
    payload, _ = receiver.recvfrom(2048)
    assert payload == encode_proc(FRAME) == f"proc {FRAME}".encode()
    assert run.stdout == f"sent 'proc {FRAME}' ({len(payload)} bytes) to 127.0.0.1:{port}\n"


def test_send_quit_takes_host_and_port_from_the_configuration(receiver, tmp_path: Path):
    port = receiver.getsockname()[1]
    config = write_config(tmp_path, server={"host": "0.0.0.0", "port": port},
                          paths={"makeDirs": False})
    run = dataman_send("quit", "-c", config)
    assert run.returncode == 0, run.stderr
    assert receiver.recvfrom(2048)[0] == encode_quit() == b"quit"
    assert run.stdout == f"sent 'quit' (4 bytes) to 127.0.0.1:{port}\n"
    assert not (tmp_path / "data").exists(), "send must not need or create the directories"


def test_send_to_an_ipv6_host():
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("::1", 0))
        except OSError:
            pytest.skip("no IPv6 loopback")
        sock.settimeout(5.0)
        send_datagram("::1", sock.getsockname()[1], b"quit")
        assert sock.recvfrom(2048)[0] == b"quit"


def test_a_bad_configuration_exits_78(tmp_path: Path):
    (tmp_path / "bad.ini").write_text("[server]\nport = many\n")
    run = dataman_send("quit", "-c", tmp_path / "bad.ini")
    assert run.returncode == 78
    assert "[server] port" in run.stderr


def test_send_to_a_port_nobody_listens_on_says_so():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # The port is free again: the local host answers "port unreachable" at once.
    run = dataman_send("quit", "--host", "127.0.0.1", "--port", port)
    assert run.returncode == 1
    assert run.stdout == ""
    assert f"nobody listens on 127.0.0.1:{port}" in run.stderr


#: Runs a ``dataman`` command in this interpreter, then lists the heavy packages it loaded.
IMPORTS_PROBE = """
import sys
from dataman.cli import main
status = main(sys.argv[1:])
print(status, sorted({"astropy", "numpy"} & set(sys.modules)))
"""


def test_send_proc_imports_neither_astropy_nor_numpy(receiver, tmp_path: Path):
    """Operators and scripts run it by hand or in loops: it must start in a blink."""
    port = receiver.getsockname()[1]
    config = write_config(tmp_path, server={"port": port}, paths={"makeDirs": False})
    run = subprocess.run([sys.executable, "-c", IMPORTS_PROBE, "send", "proc", "-c",
                          str(config), FRAME], capture_output=True, text=True, check=False,
                         timeout=60)
    assert run.stdout.splitlines()[-1] == "0 []", run.stdout + run.stderr
    assert receiver.recvfrom(2048)[0] == f"proc {FRAME}".encode()
