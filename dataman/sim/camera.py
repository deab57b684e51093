"""A stand-in for the camera server: write each frame, then announce it as azcam does.

``dataman simulate`` and ``dataman demo`` both play azcam, so they share this
loop. azcam sends ``proc <path>`` only once the file is closed, so a service
that reacts at once never meets a half-written frame; here too the datagram
leaves after ``write_raw_frame`` has returned. Exposures follow one another at
a steady pace, so frames start ``cadence`` seconds apart, measured on the
monotonic clock from the start of the previous frame: a slow write shortens
the pause instead of shifting every later frame.

>>> simulate_camera([FrameSpec(roi="1kx1k", binning=2)], Path("var/data"),
...                 send_to=("127.0.0.1", 10301), cadence=30.0)  # doctest: +SKIP
[PosixPath('/.../var/data/mods1b/mods1b.20251230.0001.fits')]
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from dataman.ipc.client import send_datagram
from dataman.ipc.datagram import encode_proc
from dataman.sim.frames import FrameSpec, write_raw_frame


class SendFailed(Exception):
    """A frame was written but its ``proc`` datagram could not be sent; the frame is kept."""

    def __init__(self, frame: Path, reason: str) -> None:
        super().__init__(f"{frame.name}: written, but 'proc' not sent: {reason}")
        self.frame = frame


def simulate_camera(
    specs: Iterable[FrameSpec],
    out: Path,
    *,
    send_to: tuple[str, int] | None = None,
    cadence: float = 0.0,
    on_frame: Callable[[Path], None] | None = None,
    stop: threading.Event | None = None,
) -> list[Path]:
    """Write each frame to ``<out>/<chan>/<name>`` and return their absolute paths, in order.

    With ``send_to`` (host, port) each frame is announced by one ``proc <absolute
    path>`` datagram once complete. ``on_frame(path)`` is called, in the writing
    thread, when the file is complete and just before its datagram leaves, so a
    caller has noted the frame before the service can answer for it (and a
    Ctrl-C after the datagram finds it counted). Setting ``stop`` (from
    another thread) ends the run between frames, the pause included; frames
    already written are returned. Raises ``FileExistsError`` (nothing is
    overwritten), ``OSError`` if a frame cannot be written, and ``SendFailed``.
    """
    if not cadence >= 0:
        raise ValueError(f"cadence must be at least 0 s, not {cadence}")
    stop = stop if stop is not None else threading.Event()
    written: list[Path] = []
    started: float | None = None
    for spec in specs:
        pause = 0.0 if started is None else next_delay(started, cadence, time.monotonic())
        if stop.wait(pause):
            break
        started = time.monotonic()
        path = write_raw_frame(out.absolute() / spec.instrument.lower(), spec)
        written.append(path)
        if on_frame is not None:
            on_frame(path)
        if send_to is not None:
            announce(path, send_to)
    return written


def announce(frame: Path, send_to: tuple[str, int]) -> None:
    """Send ``proc <frame>`` to ``send_to`` as azcam does; ``SendFailed`` says why not."""
    host, port = send_to
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        send_datagram(host, port, encode_proc(frame))
    except (OSError, ValueError) as error:
        raise SendFailed(frame, f"cannot send to {where}: {error}") from error


def next_delay(previous_start: float, cadence: float, now: float) -> float:
    """Seconds to wait before the next frame starts; 0 when the previous one overran.

    >>> next_delay(100.0, 5.0, 101.5)
    3.5
    >>> next_delay(100.0, 5.0, 107.0)
    0.0
    """
    return max(0.0, previous_start + cadence - now)
