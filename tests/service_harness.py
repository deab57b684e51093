"""A real ``dataman run`` for tests: its own folder, free UDP port, and clean teardown.

Tests talk to it the way azcam and the console do (datagrams, control socket)
and wait on conditions with deadlines, never on fixed sleeps.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from glob import escape as glob_escape
from pathlib import Path
from typing import Any

from dataman.core.config import Config, load_config
from dataman.core.holds import HOLDS_ENV
from dataman.ipc.client import send_datagram
from dataman.ipc.control import ControlError, ControlUnavailable, request, request_snapshot
from dataman.ipc.datagram import encode_proc
from dataman.ipc.protocol_requests import Request, SnapshotRequest
from dataman.ipc.protocol_snapshot import Snapshot
from dataman.ipc.slots import SHM_DIR, instance_id
from dataman.ipc.states import ServiceState, WorkerState
from tests.conftest import make_frame, write_config

#: Small raw frames (1kx1k binned 2x2): quick to write and to process.
SMALL = {"roi": "1kx1k", "binning": 2}


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], Any], timeout: float = 30.0, *,
               what: str = "condition", interval: float = 0.02) -> Any:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def process_stopped(pid: int) -> bool:
    """Whether process ``pid`` is stopped (state T): a SIGSTOP has taken effect."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "T"


def dataman_shm() -> set[str]:
    return {path.name for path in SHM_DIR.iterdir() if path.name.startswith("dataman-")}


def shm_segments(state_dir: Path) -> set[str]:
    """The /dev/shm segments of the dataman whose stateDir is ``state_dir``."""
    prefix = f"dataman-{instance_id(state_dir)}-"
    return {name for name in dataman_shm() if name.startswith(prefix)}


def slot_residency(pid: int) -> dict[str, int]:
    """Slot name -> bytes of it in process ``pid``'s page tables (``Rss`` in smaps)."""
    resident: dict[str, int] = {}
    name = None
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5:  # a mapping's header line
                path = fields[5] if len(fields) > 5 else ""
                name = Path(path).name if path.startswith(f"{SHM_DIR}/dataman-") else None
            elif name is not None and fields[0] == "Rss:":
                resident[name] = resident.get(name, 0) + int(fields[1]) * 1024
    return resident


def dataman_health(config_path: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``dataman health -c config_path``: its result and wall time (Python start included)."""
    begun = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "dataman", "health", "-c", str(config_path)],
                         capture_output=True, text=True, check=False, timeout=30)
    return run, time.monotonic() - begun


def frames(service: ServiceProcess, count: int, *, start: int = 1, instrument: str = "MODS1B",
           night: str = "20251230", **spec: object) -> list[Path]:
    """``count`` small raw frames numbered from ``start`` in the service's dataDir."""
    return [make_frame(service.config, instrument=instrument, night=night, number=number,
                       seed=number, **(SMALL | spec)) for number in range(start, start + count)]


class ServiceProcess:
    """``dataman run -c <folder>/dataman.ini`` as a child process."""

    def __init__(self, **sections: dict[str, object]) -> None:
        # AF_UNIX paths are limited to 108 bytes: keep the folder short.
        self.folder = Path(tempfile.mkdtemp(prefix="dm", dir="/tmp"))
        server = {"hostid": "mods1", "port": free_udp_port()} | sections.pop("server", {})
        service = {"scanInterval": 0} | sections.pop("service", {})
        # One worker, with a slot for the frames tests send (6 MiB, not 147): a test of two
        # frames side by side asks for two, a test of full frames for "full" slots.
        workers = {"count": 1, "slotSize": "1kx1k"} | sections.pop("workers", {})
        self.config_path = write_config(self.folder, server=server, service=service,
                                        workers=workers, **sections)
        self.config: Config = load_config(self.config_path)
        self.process: subprocess.Popen[bytes] | None = None
        self.stderr_path = self.folder / "stderr.txt"
        self.holds = self.folder / "holds"  # the hold requests of dataman/core/holds.py
        self.holds.mkdir()
        self.held: list[int] = []  # pids stopped by holds, let go at cleanup

    # --- life ---------------------------------------------------------------------------

    def start(self, *, wait: bool = True) -> ServiceProcess:
        with open(self.stderr_path, "ab") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "dataman.cli", "run", "-c", str(self.config_path)],
                stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True,
                env=os.environ | {HOLDS_ENV: str(self.holds)})
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 30.0) -> Snapshot:
        def ready() -> Snapshot | None:
            self.check_alive()
            snap = self.snapshot()
            # "running" comes once the UDP port is bound, just after the last worker is idle
            if snap and snap.service.state is ServiceState.RUNNING and \
                    sum(w.state is WorkerState.IDLE for w in snap.workers) >= \
                    self.config.workers.count:
                return snap
            return None
        return wait_until(ready, timeout, what="service ready")

    def check_alive(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"dataman run exited with {self.process.returncode}:\n"
                                 f"{self.stderr()}")

    def stop(self, timeout: float = 30.0) -> int:
        """Send ``quit`` and wait for the exit status."""
        assert self.process is not None
        self.send_raw(b"quit")
        return self.process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL the supervisor only (its workers notice and exit)."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def cleanup(self) -> None:
        """Stop whatever is still running of this service, and its worker processes."""
        for pid in self.held:  # a worker a failed test left held would delay the stop
            with suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGCONT)
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process is not None:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)  # workers of a killed supervisor

    # --- holding a worker at a point (dataman/core/holds.py) --------------------------------

    def hold(self, name: str, point: str) -> None:
        """Ask that the process reaching ``point`` with frame ``name`` stop itself there."""
        (self.holds / f"{name}@{point}").touch()

    def wait_held(self, name: str, point: str, timeout: float = 60.0) -> int:
        """Wait until the hold asked for with ``hold`` has stopped its process; its pid.

        What is waited for lasts until the test acts: the claimed request, then the
        process in state T (stopped). Nothing here races the worker. The claim is
        removed once seen, so the same frame may be held at the same point again.
        """
        def claimed() -> Path | None:
            self.check_alive()
            return next(iter(self.holds.glob(f"{glob_escape(name)}@{glob_escape(point)}.*")),
                        None)
        try:
            claim = wait_until(claimed, timeout, what=f"{name} held at {point}")
        except AssertionError as error:
            raise AssertionError(f"{error}; journal: {self.states().get(name)}; service "
                                 f"log:\n{self.stderr()[-3000:]}") from None
        claim.unlink()  # taken: a later hold of the same frame and point is a new claim
        pid = int(claim.name.rsplit(".", 1)[1])
        self.held.append(pid)
        wait_until(lambda: process_stopped(pid), 10, what=f"process {pid} stopped")
        return pid

    @staticmethod
    def release(pid: int) -> None:
        """Let a held process go on."""
        os.kill(pid, signal.SIGCONT)

    # --- talking to it ------------------------------------------------------------------

    @property
    def socket_path(self) -> Path:
        return self.config.server.control_socket

    def snapshot(self) -> Snapshot | None:
        """The service's snapshot, decoded strictly (a field that does not fit its class
        fails the test); None while nobody answers."""
        try:
            return request_snapshot(self.socket_path, timeout=2.0)
        except (ControlUnavailable, ControlError):
            return None

    def wire_snapshot(self) -> dict[str, Any] | None:
        """The snapshot's JSON as the service sent it, for a test of the wire itself."""
        try:
            return request(self.socket_path, SnapshotRequest(), timeout=2.0)
        except (ControlUnavailable, ControlError):
            return None

    def control(self, message: Request) -> dict[str, Any]:
        return request(self.socket_path, message, timeout=5.0)

    def send(self, path: Path, source: str = "127.0.0.1") -> None:
        self.send_raw(encode_proc(path), source)

    def send_raw(self, payload: bytes, source: str = "127.0.0.1") -> None:
        if source == "127.0.0.1":
            send_datagram("127.0.0.1", self.config.server.port, payload)
            return
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((source, 0))
            sock.sendto(payload, ("127.0.0.1", self.config.server.port))

    def states(self) -> dict[str, str]:
        """name -> journal state, read from the journal file (read-only)."""
        path = self.config.paths.state_dir / "journal.sqlite3"
        if not path.exists():
            return {}
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return dict(db.execute("SELECT name, state FROM frames"))

    def record(self, name: str) -> dict[str, Any]:
        path = self.config.paths.state_dir / "journal.sqlite3"
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            db.row_factory = sqlite3.Row
            row = db.execute("SELECT * FROM frames WHERE name = ?", (name,)).fetchone()
        assert row is not None, f"{name} is not in the journal"
        return dict(row)

    def wait_states(self, names: list[str], state: str = "delivered",
                    timeout: float = 60.0) -> None:
        def reached() -> bool:
            self.check_alive()
            states = self.states()
            return all(states.get(name) == state for name in names)
        wait_until(reached, timeout, what=f"{len(names)} frames {state}", interval=0.05)

    def slots(self) -> set[str]:
        """This instance's shared-memory segments in /dev/shm."""
        return shm_segments(self.config.paths.state_dir)

    def log_text(self) -> str:
        return "".join(path.read_text() for path in sorted(self.config.paths.log_dir.glob("*")))

    def stderr(self) -> str:
        return self.stderr_path.read_text() if self.stderr_path.exists() else ""
