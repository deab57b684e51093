"""``dataman health`` and systemd notifications against the real service, in each state."""

from __future__ import annotations

import os
import re
import signal
import socket
from pathlib import Path

import pytest

from dataman.ipc.protocol_requests import PauseRequest, ResumeRequest
from tests.service_harness import dataman_health, frames, wait_until

pytestmark = pytest.mark.slow


def health(service) -> tuple[int, str, float]:
    run, elapsed = dataman_health(service.config_path)
    return run.returncode, run.stdout.strip(), elapsed


def test_health_reports_ok_warning_and_down_as_the_service_changes(service_factory):
    service = service_factory(workers={"count": 2}, service={"deliveryRetryMax": 1}).start()
    raw = frames(service, 1)[0]
    service.send(raw)
    service.wait_states([raw.name])
    status, line, _ = health(service)
    assert status == 0, line
    assert re.fullmatch(rf"dataMan OK pid {service.process.pid} up \d+s cpu \d+% rss \d+MB "
                        rf"workers 2/2 queue 0 done 1 failed 0 last {raw.name} [\d.]+s \d+s ago",
                        line), line

    service.control(PauseRequest())
    status, line, _ = health(service)
    assert (status, "paused" in line) == (1, True), line
    service.control(ResumeRequest())

    repo = service.config.paths.repo_dir
    repo.rename(repo.with_name("away"))
    late = frames(service, 1, start=2)[0]
    service.send(late)
    service.wait_states([late.name], "processed")
    status, line, _ = health(service)
    assert status == 1 and "delivery stalled" in line, line
    repo.with_name("away").rename(repo)
    service.wait_states([late.name])
    wait_until(lambda: health(service)[0] == 0, 20, what="health OK again")

    service.stop()
    status, line, _ = health(service)
    assert status == 2 and line.startswith("dataMan DOWN"), line


def test_health_answers_when_the_service_hangs(service_factory):
    service = service_factory(workers={"count": 2}).start()
    os.kill(service.process.pid, signal.SIGSTOP)
    try:
        status, line, _ = health(service)
    finally:
        os.kill(service.process.pid, signal.SIGCONT)
    # A warning once the reply timed out, not a hang (health's own run is bounded by a
    # deadline); how fast it answers is bench_service.py's measurement.
    assert status == 1 and "not answering" in line, line


def test_health_warns_while_a_killed_worker_has_no_working_replacement(service_factory):
    service = service_factory(workers={"count": 2}).start()
    killed = service.snapshot().workers[0].pid
    service.hold("worker", "hello")  # the replacement holds itself before its hello
    os.kill(killed, signal.SIGKILL)
    replacement = service.wait_held("worker", "hello")
    try:
        assert [w.state for w in service.snapshot().workers
                if w.pid == replacement] == ["starting"]
        status, line, _ = health(service)
        assert status == 1 and "workers 1/2" in line and "workers missing" in line, line
    finally:
        service.release(replacement)
    wait_until(lambda: health(service)[0] == 0, 20, what="health OK again")


def test_ready_watchdog_and_status_reach_a_real_notify_socket(service_factory, monkeypatch):
    address = f"/tmp/dmnotify-{os.getpid()}.sock"
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(address)
    try:
        service = service_factory()
        with monkeypatch.context() as env:  # systemd's variables, for the service only
            env.setenv("NOTIFY_SOCKET", address)
            env.setenv("WATCHDOG_USEC", "1000000")
            env.delenv("WATCHDOG_PID", raising=False)
            started = service.start(wait=False)
        messages = []
        receiver.settimeout(20)
        while not {"READY=1", "WATCHDOG=1"} <= set(messages) or \
                not any(m.startswith("STATUS=") for m in messages):
            messages += receiver.recv(4096).decode().split("\n")
        assert messages.index("READY=1") < messages.index("WATCHDOG=1")
        assert any(re.fullmatch(r"STATUS=queue \d+ done \d+ failed \d+", m)
                   for m in messages), messages
        assert started.snapshot() is not None  # READY came once the sockets answer
        started.stop()
        receiver.settimeout(5)
        tail = receiver.recv(4096).decode()
        while "STOPPING=1" not in tail:
            tail = receiver.recv(4096).decode()
    finally:
        receiver.close()
        Path(address).unlink(missing_ok=True)

