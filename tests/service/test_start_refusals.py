"""A start that cannot happen says why on its own stderr, with the exit status systemd acts on:
a UDP port held by another program (named, exit 78), a lock held by a running service
(exit 1), whose night log stays free of the refusal."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from dataman.ipc.port_holder import udp_port_holders
from tests.service_harness import free_udp_port

pytestmark = pytest.mark.slow


def own_name() -> str:
    return Path("/proc/self/comm").read_text().strip()


def test_a_held_port_is_named_with_its_holder_and_exits_78(service_factory):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        service = service_factory(server={"port": port})
        service.start(wait=False)
        assert service.process is not None
        status = service.process.wait(60)
    stderr = service.stderr()
    assert status == 78, stderr
    assert f"not started: udp 127.0.0.1:{port} is already in use, held by pid {os.getpid()} " \
           f"({own_name()}) on 127.0.0.1:{port}" in stderr
    assert "Traceback" not in stderr
    assert "not started" not in service.log_text()


def test_holders_on_the_wildcard_address_clash_and_other_ports_do_not():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("0.0.0.0", 0))
        port = holder.getsockname()[1]
        assert udp_port_holders("127.0.0.1", port) == \
            [f"pid {os.getpid()} ({own_name()}) on 0.0.0.0:{port}"]
        assert udp_port_holders("::1", port) == []  # another address family
    assert udp_port_holders("127.0.0.1", free_udp_port()) == []


def test_a_refused_second_start_writes_only_to_its_own_stderr(service_factory):
    service = service_factory().start()
    before = service.log_text()
    assert "dataMan started" in before
    second = subprocess.run(
        [sys.executable, "-m", "dataman.cli", "run", "-c", str(service.config_path)],
        capture_output=True, text=True, timeout=60)
    assert second.returncode == 1
    assert f"| ERROR | not started: another dataman is running with this configuration " \
           f"(pid {service.process.pid}" in second.stderr
    service.check_alive()
    after = service.log_text()
    assert "not started" not in after and "| ERROR |" not in after
    assert after.startswith(before)
    assert service.stop() == 0
