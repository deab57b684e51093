"""``dataman simulate``: frames land where azcam would put them, one report line each."""

from __future__ import annotations

import argparse
import itertools
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from astropy.io import fits

from dataman.commands import simulate as command
from dataman.ipc.datagram import encode_proc
from dataman.sim.frames import FrameSpec, write_raw_frame
from tests.conftest import write_config

SMALL = ("--roi", "1kx1k", "--binning", "2", "--night", "20260105")
#: Generous: a missing datagram fails the test, it never slows a passing one.
DEADLINE = 60.0


def parse(*argv: object) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="dataman")
    command.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["simulate", *map(str, argv)])


@pytest.fixture
def receiver() -> Iterator[socket.socket]:
    """The UDP socket a dataMan would listen on."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock


def receive(sock: socket.socket, deadline: float) -> bytes:
    """The next datagram; ``TimeoutError`` once ``deadline`` (monotonic) has passed."""
    sock.settimeout(max(0.001, deadline - time.monotonic()))
    return sock.recv(2048)


def assert_no_more(sock: socket.socket) -> None:
    """Loopback delivery is immediate: once the sender has exited, its datagrams are queued."""
    sock.setblocking(False)
    with pytest.raises(BlockingIOError):
        sock.recv(2048)


Simulate = Callable[..., subprocess.Popen[str]]


@pytest.fixture
def start_simulate() -> Iterator[Simulate]:
    """Start real ``dataman simulate`` processes; any still running at the end is killed.

    SIGINT is at its default in the child, as in a terminal (a runner started in
    the background may ignore SIGINT, and the child would inherit that).
    """
    started: list[subprocess.Popen[str]] = []

    def start(*argv: object) -> subprocess.Popen[str]:
        started.append(subprocess.Popen(
            [sys.executable, "-m", "dataman", "simulate", *map(str, argv)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)))
        return started[-1]

    yield start
    for camera in started:
        if camera.poll() is None:
            camera.kill()
        camera.communicate()


def test_frames_go_to_out_chan_name_with_one_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse("--count", "2", "--night", "20260105", "--roi", "1kx1k", "--binning", "2",
                 "--out", str(tmp_path))
    assert args.func(args) == 0
    names = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.fits"))
    assert names == ["mods1b/mods1b.20260105.0001.fits", "mods1b/mods1b.20260105.0002.fits"]
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(str(tmp_path / "mods1b" / "mods1b.20260105.0001.fits"))
    assert " bytes " in lines[0] and lines[0].endswith(" s")


def test_all_cycles_the_channels_each_with_its_own_numbers(tmp_path: Path) -> None:
    args = parse("--count", "5", "--instrument", "all", "--night", "20260105", "--roi", "1kx1k",
                 "--binning", "2", "--start-number", "7", "--out", str(tmp_path))
    assert command.run(args) == 0
    names = sorted(p.name for p in tmp_path.rglob("*.fits"))
    assert names == [
        "mods1b.20260105.0007.fits", "mods1b.20260105.0008.fits", "mods1r.20260105.0007.fits",
        "mods2b.20260105.0007.fits", "mods2r.20260105.0007.fits",
    ]
    header = fits.getheader(tmp_path / "mods1b" / "mods1b.20260105.0008.fits")
    assert (header["DATE-OBS"], header["UTC-OBS"]) == ("2026-01-05", "03:18:45.123")
    assert header["INSTRUME"] == "MODS1B"


def test_existing_frame_stops_the_run_without_overwriting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse("--count", "1", "--night", "20260105", "--roi", "1kx1k", "--out", str(tmp_path))
    assert command.run(args) == 0
    frame = tmp_path / "mods1b" / "mods1b.20260105.0001.fits"
    before = frame.read_bytes()
    assert command.run(args) == 1
    assert "exists already" in capsys.readouterr().err
    assert frame.read_bytes() == before


@pytest.mark.parametrize(("now", "night"), [
    (datetime(2025, 12, 30, 18, 59, 59, tzinfo=UTC), "20251230"),  # 11:59:59 MST: last night's
    (datetime(2025, 12, 30, 19, 0, tzinfo=UTC), "20251231"),  # local noon: the coming night
    (datetime(2025, 12, 30, 23, 59, tzinfo=UTC), "20251231"),  # 16:59 MST
    (datetime(2025, 12, 31, 6, 0, tzinfo=UTC), "20251231"),  # 23:00 MST
])
def test_frames_are_named_after_the_observing_night_not_the_utc_date(
    tmp_path: Path, now: datetime, night: str
) -> None:
    args = parse("--count", "1", "--roi", "1kx1k", "--binning", "2", "--out", tmp_path)
    assert command.run(args, now=lambda: now) == 0
    assert [p.name for p in tmp_path.rglob("*.fits")] == [f"mods1b.{night}.0001.fits"]


def test_an_explicit_night_wins(tmp_path: Path) -> None:
    args = parse("--count", "1", *SMALL, "--out", tmp_path)
    assert command.run(args, now=lambda: datetime(2025, 12, 30, 20, 0, tzinfo=UTC)) == 0
    assert [p.name for p in tmp_path.rglob("*.fits")] == ["mods1b.20260105.0001.fits"]


def test_the_configured_utc_offset_decides_the_night(tmp_path: Path) -> None:
    # 20:00 UTC is 13:00 in Arizona (next night) but 10:00 at UTC-10 (still last night).
    config = write_config(tmp_path, site={"utcOffset": 10.0}, paths={"makeDirs": False})
    args = parse("-c", config, "--count", "1", "--roi", "1kx1k", "--binning", "2",
                 "--out", tmp_path / "out")
    assert command.run(args, now=lambda: datetime(2025, 12, 30, 20, 0, tzinfo=UTC)) == 0
    assert [p.name for p in tmp_path.rglob("*.fits")] == ["mods1b.20251230.0001.fits"]


def test_a_night_plan_opens_with_afternoon_calibrations(tmp_path: Path) -> None:
    args = parse("--kind", "night", "--count", "9", *SMALL, "--out", tmp_path)
    assert command.run(args) == 0
    rows = []
    for number in range(1, 10):
        header = fits.getheader(tmp_path / "mods1b" / f"mods1b.20260105.{number:04d}.fits")
        rows.append((header["IMAGETYP"], header["EXPTIME"], header["DATE-OBS"],
                     header["UTC-OBS"]))
    # 14:00 MST the day before the night's date, each start after the previous exposure + 60 s.
    assert rows == [
        ("bias", 0.0, "2026-01-04", "21:00:00.000"),
        ("bias", 0.0, "2026-01-04", "21:01:00.000"),
        ("bias", 0.0, "2026-01-04", "21:02:00.000"),
        ("flat", 8.0, "2026-01-04", "21:03:00.000"),
        ("flat", 8.0, "2026-01-04", "21:04:08.000"),
        ("flat", 8.0, "2026-01-04", "21:05:16.000"),
        ("comp", 40.0, "2026-01-04", "21:06:24.000"),
        ("comp", 40.0, "2026-01-04", "21:08:04.000"),
        ("object", 300.0, "2026-01-05", "03:12:45.123"),
    ]


@pytest.mark.parametrize("kind", ["bias", "flat", "comp", "object"])
def test_one_kind_for_every_channel(tmp_path: Path, kind: str) -> None:
    args = parse("--kind", kind, "--instrument", "all", "--count", "4", *SMALL, "--out", tmp_path)
    assert command.run(args) == 0
    frames = sorted(tmp_path.rglob("*.fits"))
    assert len(frames) == 4
    assert {fits.getheader(frame)["IMAGETYP"] for frame in frames} == {kind}


@pytest.mark.parametrize("argv", [["--count", "0"], ["--night", "20261340"], ["--roi", "2kx2k"],
                                  ["--binning", "3"], ["--instrument", "MODS3B"],
                                  ["--send", "localhost"], ["--send", "::1:10301"],
                                  ["--send", "host:0"], ["--send", "host:http"],
                                  ["--cadence", "-1"], ["--cadence", "nan"],
                                  ["--kind", "dark"]])
def test_bad_options_are_refused_by_the_parser(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse(*argv)


def test_frame_numbers_beyond_9999_are_refused(tmp_path: Path) -> None:
    args = parse("--count", "2", "--start-number", "9999", "--out", str(tmp_path))
    assert command.run(args) == 2
    assert not tmp_path.joinpath("mods1b").exists()


@pytest.mark.slow
def test_send_announces_each_complete_frame_once_in_writing_order(
    tmp_path: Path, receiver: socket.socket, start_simulate: Simulate
) -> None:
    port = receiver.getsockname()[1]
    camera = start_simulate("--send", f"127.0.0.1:{port}", "--count", 4, "--instrument", "all",
                            *SMALL, "--out", tmp_path)
    received = []
    deadline = time.monotonic() + DEADLINE
    for _ in range(4):
        payload = receive(receiver, deadline)
        path = Path(payload.decode().removeprefix("proc "))
        received.append((payload, path, path.stat().st_size))
    out, err = camera.communicate(timeout=DEADLINE)
    assert camera.returncode == 0, err
    assert_no_more(receiver)
    written = [Path(line.split("  ")[0]) for line in out.splitlines()]
    assert [path for _, path, _ in received] == written
    assert [path.parent.name for path in written] == ["mods1b", "mods1r", "mods2b", "mods2r"]
    for payload, path, size_when_announced in received:
        assert path.is_absolute() and path.parent.parent == tmp_path
        assert payload == encode_proc(path) == f"proc {path}".encode()
        assert size_when_announced == path.stat().st_size
        with fits.open(path) as hdus:
            assert [hdu.name for hdu in hdus][1:] == ["IM1", "IM2", "IM3", "IM4", "CONPARS"]
            assert hdus["IM4"].data.shape == hdus["IM1"].data.shape


def test_config_gives_host_port_and_out(tmp_path: Path, receiver: socket.socket) -> None:
    port = receiver.getsockname()[1]
    config = write_config(tmp_path, server={"host": "0.0.0.0", "port": port},
                          paths={"makeDirs": False})
    args = parse("-c", config, "--send", "--count", 2, *SMALL)
    assert args.func(args) == 0
    deadline = time.monotonic() + DEADLINE
    folder = tmp_path / "data" / "mods1b"
    for number in (1, 2):
        frame = folder / f"mods1b.20260105.{number:04d}.fits"
        assert receive(receiver, deadline) == f"proc {frame}".encode()
        assert frame.is_file()
    assert_no_more(receiver)
    assert not (tmp_path / "proc").exists(), "simulate must not create the service's folders"


def test_bare_send_reads_the_default_configuration(
    tmp_path: Path, receiver: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path, server={"port": receiver.getsockname()[1]})
    monkeypatch.setenv("DATAMAN_CONFIG", str(config))
    args = parse("--send", "--count", 1, *SMALL)
    assert args.func(args) == 0
    frame = tmp_path / "data" / "mods1b" / "mods1b.20260105.0001.fits"
    assert receive(receiver, time.monotonic() + DEADLINE) == f"proc {frame}".encode()


def test_config_without_send_only_chooses_out(tmp_path: Path, receiver: socket.socket) -> None:
    config = write_config(tmp_path, server={"port": receiver.getsockname()[1]})
    args = parse("-c", config, "--count", 1, *SMALL, "--out", tmp_path / "elsewhere")
    assert args.func(args) == 0
    assert (tmp_path / "elsewhere" / "mods1b" / "mods1b.20260105.0001.fits").is_file()
    assert not (tmp_path / "data").exists()
    assert_no_more(receiver)


def test_cadence_spaces_the_frames(
    tmp_path: Path, receiver: socket.socket, capsys: pytest.CaptureFixture[str]
) -> None:
    port = receiver.getsockname()[1]
    cadence, jitter = 0.6, 0.2  # unpaced, these frames would arrive 0.04 s apart
    write_raw_frame(tmp_path / "warm-up", FrameSpec(roi="1kx1k", binning=2))  # first write is slow
    args = parse("--send", f"127.0.0.1:{port}", "--cadence", cadence, "--count", 3, *SMALL,
                 "--out", tmp_path)
    deadline = time.monotonic() + DEADLINE
    with ThreadPoolExecutor(1) as pool:
        camera = pool.submit(args.func, args)
        arrivals = []
        for _ in range(3):
            receive(receiver, deadline)
            arrivals.append(time.monotonic())
        assert camera.result(timeout=DEADLINE) == 0, capsys.readouterr().err
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    # A gap is the cadence plus the difference of two write times: a few ms when the machine
    # is idle, more under load, and a slow write lengthens one gap and shortens the next
    # (CI saw 0.91 s then 0.27 s). Paced, the frames cannot arrive sooner than the cadence
    # allows over the whole run; unpaced, they would all be there within 0.1 s.
    # (That the pause counts from each frame's start is test_camera's.)
    assert arrivals[-1] - arrivals[0] >= 2 * cadence - jitter, gaps


def test_unresolvable_host_is_one_line_and_exit_1_keeping_the_frame(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse("--send", "no-such-host.invalid:10301", "--count", 2, *SMALL, "--out", tmp_path)
    assert args.func(args) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("dataman simulate: mods1b.20260105.0001.fits: written, but 'proc' not "
                          "sent: cannot send to no-such-host.invalid:10301: ")
    assert [p.name for p in tmp_path.rglob("*.fits")] == ["mods1b.20260105.0001.fits"]


@pytest.mark.slow
def test_ctrl_c_while_waiting_exits_130_without_traceback(
    tmp_path: Path, receiver: socket.socket, start_simulate: Simulate
) -> None:
    port = receiver.getsockname()[1]
    camera = start_simulate("--send", f"127.0.0.1:{port}", "--cadence", 5, "--count", 10,
                            *SMALL, "--out", tmp_path)
    first = receive(receiver, time.monotonic() + DEADLINE)
    camera.send_signal(signal.SIGINT)
    out, err = camera.communicate(timeout=DEADLINE)
    assert camera.returncode == 130
    assert "Traceback" not in err
    assert err == "dataman simulate: interrupted, 1 frame written\n"
    frame = tmp_path / "mods1b" / "mods1b.20260105.0001.fits"
    assert first == f"proc {frame}".encode()
    assert out.startswith(str(frame)) and len(out.splitlines()) == 1
    assert [p.name for p in tmp_path.rglob("*.fits")] == [frame.name]


def test_a_night_plan_changes_slit_after_four_objects_and_takes_no_arcs_for_it(
        tmp_path: Path) -> None:
    args = parse("--kind", "night", "--count", "16", *SMALL, "--out", tmp_path)
    assert command.run(args) == 0
    rows = []
    for number in range(1, 17):
        header = fits.getheader(tmp_path / "mods1b" / f"mods1b.20260105.{number:04d}.fits")
        rows.append((header["IMAGETYP"], header["GRATNAME"], header["FILTNAME"],
                     header["MASKNAME"], header["SLITMASK"]))
    wide = ("G400L", "Clear", "LS5x60x1.0", 7)
    narrow = ("G400L", "Clear", "LS5x60x0.6", 6)
    assert rows == [("bias", *wide)] * 3 + [("flat", *wide)] * 3 + [("comp", *wide)] * 2 + \
        [("object", *wide)] * 4 + [("flat", *narrow)] * 2 + [("object", *narrow)] * 2
    flat = fits.getheader(tmp_path / "mods1b" / "mods1b.20260105.0013.fits")
    assert flat["OBJECT"] == "Slit flat LS5x60x0.6"
