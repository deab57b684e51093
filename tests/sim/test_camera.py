"""``simulate_camera``: the camera loop ``dataman demo`` runs in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from astropy.io import fits

from dataman.sim.camera import SendFailed, next_delay, simulate_camera
from dataman.sim.frames import FrameSpec

DEADLINE = 60.0


def specs(count: int, instrument: str = "MODS1B") -> list[FrameSpec]:
    return [FrameSpec(instrument=instrument, roi="1kx1k", binning=2, number=number)
            for number in range(1, count + 1)]


@pytest.fixture
def receiver() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        yield sock


def test_callback_has_the_complete_frame_just_before_its_datagram(
    tmp_path: Path, receiver: socket.socket
) -> None:
    announced: list[bytes] = []

    def on_frame(path: Path) -> None:  # loopback: a datagram is queued once sendto returns
        announced.extend(drain(receiver))
        assert path.is_absolute() and path.is_file()
        assert fits.getval(path, "EXTNAME", ext=5) == "CONPARS"

    frames = simulate_camera(specs(2), tmp_path, send_to=receiver.getsockname(),
                             on_frame=on_frame)
    assert frames == [tmp_path / "mods1b" / f"mods1b.20251230.000{n}.fits" for n in (1, 2)]
    assert announced == [f"proc {frames[0]}".encode()]
    assert [*announced, *drain(receiver)] == [f"proc {frame}".encode() for frame in frames]


def drain(sock: socket.socket) -> list[bytes]:
    """Every datagram queued on the non-blocking ``sock``."""
    payloads = []
    while True:
        try:
            payloads.append(sock.recv(2048))
        except BlockingIOError:
            return payloads


def test_relative_out_still_announces_absolute_paths(
    tmp_path: Path, receiver: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    [frame] = simulate_camera(specs(1), Path("data"), send_to=receiver.getsockname())
    assert frame == tmp_path / "data" / "mods1b" / "mods1b.20251230.0001.fits"
    assert receiver.recv(2048) == f"proc {frame}".encode()


def test_stop_ends_the_pause_and_returns_the_frames_written(tmp_path: Path) -> None:
    stop = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        began = time.monotonic()
        camera = pool.submit(simulate_camera, specs(10), tmp_path, cadence=3600.0,
                             on_frame=lambda _: stop.set(), stop=stop)
        frames = camera.result(timeout=DEADLINE)
    assert [frame.name for frame in frames] == ["mods1b.20251230.0001.fits"]
    assert time.monotonic() - began < 10  # not an hour: the pause heard the stop


def test_failed_datagram_keeps_the_frame_and_says_which(tmp_path: Path) -> None:
    with pytest.raises(SendFailed, match=r"^mods1b\.20251230\.0001\.fits: written, but") as error:
        simulate_camera(specs(2), tmp_path, send_to=("no-such-host.invalid", 10301))
    assert error.value.frame.is_file()
    assert [p.name for p in tmp_path.rglob("*.fits")] == ["mods1b.20251230.0001.fits"]


def test_negative_cadence_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cadence"):
        simulate_camera(specs(1), tmp_path, cadence=-1.0)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(("previous_start", "now", "expected"), [
    (100.0, 100.0, 5.0),  # just started: a full cadence to go
    (100.0, 101.5, 3.5),  # writing took 1.5 s: the rest of the cadence
    (100.0, 105.0, 0.0),  # exactly on time
    (100.0, 107.0, 0.0),  # writing overran: the next frame starts at once
])
def test_next_frame_waits_for_the_rest_of_the_cadence(
    previous_start: float, now: float, expected: float
) -> None:
    assert next_delay(previous_start, 5.0, now) == expected


def test_zero_cadence_never_waits() -> None:
    assert next_delay(100.0, 0.0, 100.0) == 0.0
