"""``dataman demo`` as a newcomer runs it: a real service, the simulated camera, a clean end.

The slow tests run ``python -m dataman demo`` as a real subprocess on a configuration
in a short /tmp folder (the control socket path must fit in 108 bytes). Small frames
(``--roi 1kx1k``) keep the runs to a few seconds. The first tests check the tally the
demo keeps from the service's events, with literal items.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil
import pytest

from dataman.commands.demo_progress import Tally, frame_line, summary_lines
from dataman.core.config import load_config
from dataman.ipc.control import PROTOCOL_VERSION
from dataman.ipc.protocol_events import FrameRefused
from dataman.ipc.protocol_snapshot import FrameEntry
from dataman.ipc.states import FrameState
from tests import protocol_fixtures as pf
from tests.conftest import _processes_of, write_config
from tests.service_harness import ServiceProcess, free_udp_port, shm_segments, wait_until

SMALL = ("--roi", "1kx1k", "--cadence", "0.2")
DEADLINE = 120.0
LATENCY = re.compile(r"^latency \(datagram to delivered copy\): "
                     r"median \d+\.\d\d s, max \d+\.\d\d s$", re.M)


@pytest.fixture
def home(short_dir: Path) -> Iterator[Path]:
    """A configuration of its own: free UDP port, no raw-folder scan."""
    write_config(short_dir, server={"hostid": "mods1", "port": free_udp_port()},
                 service={"scanInterval": 0})
    try:
        yield short_dir
    finally:
        for process in _processes_of(str(short_dir)):  # only if a test failed half-way
            process.kill()


def dataman_demo(config: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dataman", "demo", "-c", str(config), *options],
                          capture_output=True, text=True, timeout=DEADLINE)


def service_pid(stdout: str) -> int:
    match = re.search(r"^started the service: .* \(pid (\d+)\)", stdout, re.M)
    assert match, stdout
    return int(match.group(1))


def item(name: str, result: str = "ok", latency: float | None = 0.5,
         **fields: Any) -> FrameEntry:
    return pf.frame(name=name, result=result, latency=latency, roi="1kx1k", binning="2x2",
                    timings={"read": 0.012, "write": 0.034}, **fields)


def test_only_final_outcomes_of_planned_frames_count() -> None:
    tally = Tally(["mods1b.20251230.0001.fits", "mods1r.20251230.0001.fits"])
    tally.written += tally.names

    assert tally.note_frame(item("mods1b.20251230.0099.fits")) is None  # not ours
    assert tally.note_frame(item("mods1b.20251230.0001.fits", "waiting", None,
                                 reason="repoDir not mounted")) is None
    assert tally.current() == "mods1b.20251230.0001.fits (delivery pending)"
    assert tally.note_frame(item("mods1b.20251230.0001.fits", latency=0.62)) is not None
    assert tally.note_frame(item("mods1b.20251230.0001.fits", latency=9.0)) is None  # seen

    assert tally.pending() == ["mods1r.20251230.0001.fits"]
    assert tally.latencies == [0.62]
    assert frame_line(tally.outcomes["mods1b.20251230.0001.fits"], tally) == (
        "[1/2] ok       mods1b.20251230.0001.fits  1kx1k 2x2  latency 0.62 s  read 12ms write 34ms")


def test_a_frame_the_service_refuses_ends_failed_with_its_reason() -> None:
    tally = Tally(["mods1b.20251230.0001.fits"])
    tally.written += tally.names
    refusal = FrameRefused("mods1b.20251230.0001.fits", "127.0.0.1:5000",
                           "already delivered /x/mods1b.20251230.0001.fits; "
                           "not processed again")

    assert tally.note_refused(replace(refusal, name="mods1b.20251230.0099.fits")) is None
    assert tally.note_refused(refusal) is not None
    assert tally.note_refused(refusal) is None  # ended already

    assert summary_lines(tally) == [
        "delivered 0 of 1 frames, failed 1",
        "  FAILED mods1b.20251230.0001.fits: requested by 127.0.0.1:5000, already delivered "
        "/x/mods1b.20251230.0001.fits; not processed again",
    ]


def test_the_summary_gives_latency_median_and_max_and_what_is_missing() -> None:
    tally = Tally([f"mods1b.20251230.000{n}.fits" for n in (1, 2, 3, 4)])
    tally.written += tally.names[:3]
    for name, latency in zip(tally.names[:2], (0.5, 1.25), strict=True):
        tally.note_frame(item(name, latency=latency))

    assert summary_lines(tally) == [
        "delivered 2 of 4 frames, failed 0",
        "latency (datagram to delivered copy): median 0.88 s, max 1.25 s",
        "  unfinished mods1b.20251230.0003.fits: no outcome yet",
        "  1 frame never written",
    ]


def test_a_service_speaking_another_protocol_version_is_named_not_replaced(home: Path) -> None:
    """A service answers, in another version: the demo says which side to upgrade, and
    neither starts a second service nor writes a frame."""
    config = load_config(home / "dataman.ini")
    config.server.control_socket.parent.mkdir(parents=True, exist_ok=True)
    with pf.service_speaking(config.server.control_socket, PROTOCOL_VERSION + 1):
        run = dataman_demo(home / "dataman.ini", "--frames", "1", *SMALL)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stderr == (f"dataman demo: dataMan service speaks control protocol "
                          f"{PROTOCOL_VERSION + 1}, this demo speaks {PROTOCOL_VERSION}: "
                          "upgrade this demo\n")
    assert "started the service" not in run.stdout
    assert not list((home / "data").rglob("*.fits"))


@pytest.mark.slow
def test_demo_starts_the_service_delivers_every_frame_and_stops_it(home: Path) -> None:
    run = dataman_demo(home / "dataman.ini", "--frames", "3", *SMALL)

    assert run.returncode == 0, run.stdout + run.stderr
    assert "delivered 3 of 3 frames, failed 0" in run.stdout
    assert LATENCY.search(run.stdout), run.stdout
    assert len(re.findall(r"^\[[123]/3\] ok +mods1[br]\.\d{8}\.\d{4}\.fits  1kx1k",
                          run.stdout, re.M)) == 3, run.stdout
    assert len(list((home / "newdata").glob("mods1*.fits"))) == 3
    assert f"night log: {home / 'log'}/mods1dm." in run.stdout
    report = re.search(r"^night report: (.*\.html)$", run.stdout, re.M)
    assert report and Path(report[1]).parent == home / "log", run.stdout
    assert Path(report[1]).read_text().count('<img class="thumb"') == 3
    pid = service_pid(run.stdout)
    assert re.search(rf"^stopped the service \(pid {pid}, exit status 0\)$", run.stdout, re.M)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not _processes_of(str(home))
    assert not shm_segments(home / "state")


@pytest.mark.slow
def test_a_second_demo_numbers_its_frames_after_the_first(home: Path) -> None:
    assert dataman_demo(home / "dataman.ini", "--frames", "1", *SMALL).returncode == 0
    run = dataman_demo(home / "dataman.ini", "--frames", "1", *SMALL)

    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"^\[1/1\] ok +mods1b\.\d{8}\.0002\.fits", run.stdout, re.M), run.stdout
    assert len(list((home / "newdata").glob("mods1b*.fits"))) == 2


@pytest.mark.slow
def test_demo_uses_a_running_service_and_leaves_it_running(
        service_factory: Callable[..., ServiceProcess]) -> None:
    service = service_factory().start()

    run = dataman_demo(service.config_path, "--frames", "2", *SMALL)

    assert run.returncode == 0, run.stdout + run.stderr
    assert f"using the dataMan already running on this configuration (pid {service.process.pid})" \
        in run.stdout
    assert "started the service" not in run.stdout
    assert "stopped the service" not in run.stdout
    assert "delivered 2 of 2 frames, failed 0" in run.stdout
    service.check_alive()
    assert sorted(service.states().values()) == [FrameState.DELIVERED] * 2
    assert service.stop() == 0


@pytest.mark.slow
def test_a_service_that_cannot_start_is_reported_with_its_stderr(home: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        port = squatter.getsockname()[1]
        config = write_config(home, server={"hostid": "mods1", "port": port})

        run = dataman_demo(config, "--frames", "1", *SMALL)

    assert run.returncode == 1
    assert "the service exited with status 78 before it was ready" in run.stderr
    assert "service stderr (last lines):" in run.stderr
    assert "not started" in run.stderr, run.stderr
    assert f"udp 127.0.0.1:{port} is already in use" in run.stderr
    assert not _processes_of(str(home))


@pytest.mark.slow
def test_ctrl_c_stops_the_camera_and_the_service_cleanly(home: Path) -> None:
    output = home / "stdout.txt"
    with open(output, "w") as stdout:
        demo = subprocess.Popen(
            [sys.executable, "-m", "dataman", "demo", "-c", str(home / "dataman.ini"),
             "--frames", "200", "--roi", "1kx1k", "--cadence", "0.5"],
            stdout=stdout, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: "[1/200] ok" in output.read_text(), DEADLINE,
                   what="the first frame delivered")
        demo.send_signal(signal.SIGINT)
        _, stderr = demo.communicate(timeout=DEADLINE)
    finally:
        if demo.poll() is None:
            demo.kill()
    text = output.read_text()

    assert demo.returncode == 130, text + stderr
    assert "dataman demo: interrupted" in stderr
    assert re.search(r"^delivered \d+ of 200 frames, failed 0$", text, re.M), text
    assert re.search(r"^stopped the service \(pid \d+, exit status 0\)$", text, re.M), text
    assert not _processes_of(str(home))
    assert not shm_segments(home / "state")
