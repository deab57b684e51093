"""``dataman health`` against real processes: nothing running, a service serving a canned
snapshot on a real control socket, and the same service frozen with SIGSTOP."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dataman.ipc.control import PROTOCOL_VERSION
from tests import protocol_fixtures as pf
from tests.conftest import write_config
from tests.service_harness import dataman_health

LAST = "mods1b.20251230.0143.fits"
#: A stand-in service: holds the instance lock and serves one snapshot (its own pid and
#: start time filled in) until terminated. The real supervisor is not needed here.
CANNED_SERVICE = """
import asyncio, json, os, sys, time
from pathlib import Path
import dataman.ipc.control
from dataman.ipc.control import ControlError
from dataman.ipc.control_server import ControlServer
from dataman.ipc.protocol_snapshot import Snapshot
from dataman.service.health import health_reply
from dataman.service.lock import InstanceLock

state_dir, snapshot = Path(sys.argv[1]), json.loads(sys.argv[2])
dataman.ipc.control.PROTOCOL_VERSION = int(sys.argv[3])  # what this stand-in speaks
answers_health = sys.argv[4] == "yes"  # no: a service from before the health request
lock = InstanceLock.acquire(state_dir)
now = time.time()
snapshot["service"].update(pid=os.getpid(), started_at=now)
if snapshot.get("last"):
    snapshot["last"]["delivered_at"] = now - 14

async def answer(request):
    if request.op == "snapshot":
        return snapshot
    if request.op == "health" and answers_health:
        return health_reply(Snapshot.from_dict(snapshot), time.time())
    raise ControlError(f"unknown op {request.op.value!r}")

async def main():
    server = ControlServer(state_dir / "dataman.sock", answer)
    await server.start()
    print("ready", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""
SNAPSHOT = pf.wire(pf.snapshot(
    service=pf.service_info(cpu_percent=2.4, rss=310 * 2**20 + 12345),
    counts=pf.counts(processed=143, delivered=143),
    last=pf.last_delivered(LAST, 0.62, None)))
#: A service that answers reports its own CPU and memory (in the snapshot)...
SERVICE_FIELDS = r"pid (\d+) up \w+ cpu 2% rss 310MB"
#: ... one that does not is measured by ``dataman health`` itself (psutil).
PROCESS_FIELDS = r"pid (\d+) up \w+ cpu \d+% rss \d+MB"


@pytest.fixture
def home(short_dir: Path) -> Path:
    """A configuration folder with a short path: the socket path must fit in 108 bytes."""
    write_config(short_dir, paths={"makeDirs": False})
    (short_dir / "state").mkdir()
    return short_dir


def start_service(home: Path, snapshot: dict[str, Any], *, version: int = PROTOCOL_VERSION,
                  answers_health: bool = True,
                  code: str = CANNED_SERVICE) -> subprocess.Popen[str]:
    service = subprocess.Popen([sys.executable, "-c", code, str(home / "state"),
                                json.dumps(snapshot), str(version),
                                "yes" if answers_health else "no"],
                               stdout=subprocess.PIPE, text=True)
    ready, _, _ = select.select([service.stdout], [], [], 30)
    if not ready or service.stdout.readline() != "ready\n":
        stop_service(service)
        pytest.fail("the canned service did not start")
    return service


def stop_service(service: subprocess.Popen[str]) -> None:
    service.send_signal(signal.SIGCONT)
    service.terminate()
    try:
        service.wait(timeout=10)
    except subprocess.TimeoutExpired:
        service.kill()
        service.wait()
    service.stdout.close()


def test_down_when_nothing_runs(home: Path):
    run, _ = dataman_health(home / "dataman.ini")
    assert (run.returncode, run.stdout, run.stderr) == (
        2, f"dataMan DOWN: not running (state {(home / 'state').resolve()})\n", "")


def test_down_when_only_a_stale_socket_is_left(home: Path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as stale:
        stale.bind(os.fspath(home / "state" / "dataman.sock"))  # as a killed service leaves it
    run, _ = dataman_health(home / "dataman.ini")
    assert run.returncode == 2
    assert run.stdout.startswith("dataMan DOWN: not running")


def test_ok_when_the_service_answers(home: Path):
    service = start_service(home, SNAPSHOT)
    try:
        run, _ = dataman_health(home / "dataman.ini")
    finally:
        stop_service(service)
    assert run.returncode == 0, run.stdout + run.stderr
    match = re.fullmatch(rf"dataMan OK {SERVICE_FIELDS} workers 2/2 queue 0 done 143 "
                         rf"failed 0 last {re.escape(LAST)} 0.62s 1\ds ago\n", run.stdout)
    assert match, run.stdout
    assert int(match[1]) == service.pid


def test_a_service_from_before_the_health_request_gets_the_same_line_from_its_snapshot(
        home: Path):
    """The line is then made here from the snapshot, as the service would make it."""
    service = start_service(home, SNAPSHOT, answers_health=False)
    try:
        run, _ = dataman_health(home / "dataman.ini")
    finally:
        stop_service(service)
    assert run.returncode == 0, run.stdout + run.stderr
    match = re.fullmatch(rf"dataMan OK {SERVICE_FIELDS} workers 2/2 queue 0 done 143 "
                         rf"failed 0 last {re.escape(LAST)} 0.62s 1\ds ago\n", run.stdout)
    assert match and int(match[1]) == service.pid, run.stdout


@pytest.mark.parametrize("answer", [{"level": 7, "line": "dataMan OK"},
                                    {"level": 0},
                                    {"level": "0", "line": "dataMan OK"}])
def test_a_health_reply_that_does_not_fit_is_a_warning_that_says_so(home: Path, answer):
    """A stand-in that answers ``health`` with anything but a level and a line."""
    code = CANNED_SERVICE.replace(
        "return health_reply(Snapshot.from_dict(snapshot), time.time())",
        f"return {answer!r}")
    service = start_service(home, SNAPSHOT, code=code)
    try:
        run, _ = dataman_health(home / "dataman.ini")
    finally:
        stop_service(service)
    assert run.returncode == 1, run.stdout + run.stderr
    assert " : unreadable reply (health: level " in run.stdout, run.stdout
    assert "Traceback" not in run.stderr


def test_warning_with_the_problems_when_the_service_reports_them(home: Path):
    snapshot = pf.wire(pf.snapshot(
        service=pf.service_info(state="paused", cpu_percent=2.4, rss=310 * 2**20 + 12345),
        transfers=pf.transfers(repo_reachable=False, repo_reason="repoDir not writable",
                               awaiting_delivery=("a.fits", "b.fits", "c.fits"))))
    service = start_service(home, snapshot)
    try:
        run, _ = dataman_health(home / "dataman.ini")
    finally:
        stop_service(service)
    assert run.returncode == 1, run.stdout + run.stderr
    assert re.fullmatch(rf"dataMan WARNING {SERVICE_FIELDS} workers 2/2 .* : intake paused; "
                        r"delivery stalled: 3 frames waiting \(repoDir not writable\)\n",
                        run.stdout), run.stdout


@pytest.mark.parametrize(("version", "upgrade"), [
    (PROTOCOL_VERSION + 1, "upgrade this dataman health"),
    (PROTOCOL_VERSION - 1, "upgrade the dataMan service")])
def test_a_service_speaking_another_protocol_version_is_a_warning_that_says_so(
        home: Path, version: int, upgrade: str):
    service = start_service(home, SNAPSHOT, version=version)
    try:
        run, _ = dataman_health(home / "dataman.ini")
    finally:
        stop_service(service)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.endswith(
        f" : dataMan service speaks control protocol {version}, this dataman health speaks "
        f"{PROTOCOL_VERSION}: {upgrade}\n"), run.stdout
    assert "Traceback" not in run.stderr


def test_a_snapshot_missing_a_field_is_a_warning_naming_it(home: Path):
    snapshot = pf.wire(pf.snapshot())
    del snapshot["workers"][1]["pid"]
    service = start_service(home, snapshot, answers_health=False)
    try:
        run, _ = dataman_health(home / "dataman.ini")
    finally:
        stop_service(service)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.endswith(" : unreadable snapshot (snapshot.workers[1].pid: missing)\n"), \
        run.stdout


@pytest.mark.slow
def test_a_hung_service_is_a_warning_not_a_hang(home: Path):
    service = start_service(home, SNAPSHOT)
    try:
        service.send_signal(signal.SIGSTOP)
        run, _ = dataman_health(home / "dataman.ini")
    finally:
        stop_service(service)
    assert run.returncode == 1, run.stdout + run.stderr
    assert re.fullmatch(rf"dataMan WARNING {PROCESS_FIELDS} workers 0 : control socket "
                        r"not answering \(no reply within 0.5 s\)\n", run.stdout), run.stdout
    # It gave up after its 0.5 s reply timeout (the line says so) instead of waiting on the
    # hung service; how fast is bench_service.py's measurement, not this test's.


#: Runs ``dataman health``, then lists the packages it loaded that a status line does not need.
IMPORTS_PROBE = """
import sys
from dataman.cli import main
status = main(["health", "-c", sys.argv[1]])
print(status, sorted({"astropy", "numpy", "asyncio", "psutil", "dataman.ipc.protocol_snapshot"}
                    & set(sys.modules)))
"""


def health_imports(home: Path) -> str:
    run = subprocess.run([sys.executable, "-c", IMPORTS_PROBE, str(home / "dataman.ini")],
                         capture_output=True, text=True, check=False, timeout=30)
    return run.stdout.splitlines()[-1] if run.stdout else run.stderr


def test_health_of_a_service_that_answers_imports_only_what_the_line_needs(home: Path):
    """The status display runs it every few seconds: the answer carries CPU and memory,
    so neither psutil nor asyncio (nor astropy, numpy) is loaded."""
    service = start_service(home, SNAPSHOT)
    try:
        assert health_imports(home) == "0 []"
    finally:
        stop_service(service)


def test_health_of_a_service_that_is_down_imports_only_what_the_line_needs(home: Path):
    assert health_imports(home) == "2 []"
