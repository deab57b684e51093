"""Following ``dataman demo`` through the control socket: each frame's outcome, as it comes.

:class:`Tally` is what the demo knows: the frames it planned, those the camera
has written, and what the service said about each (the ``frame`` and ``refused``
events, see :mod:`dataman.ipc.protocol_events`). :func:`follow` feeds it from
a subscribed connection until every written frame has an outcome. A display
shows it: a progress bar (rich) on a terminal, one plain line per frame
otherwise, so a log file or a test reads the same lines a person sees above
the bar.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from dataman.core.timings import format_step_timings
from dataman.ipc.connection import ControlConnection
from dataman.ipc.control import ControlUnavailable
from dataman.ipc.protocol_events import (
    Dropped,
    FrameFinished,
    FrameRefused,
    LogAppended,
    WorkersChanged,
)
from dataman.ipc.protocol_snapshot import FrameEntry, LogEntry, WorkerEntry
from dataman.ipc.states import Result, WorkerState

#: Results that end a frame; ``waiting`` (processed, delivery pending) does not.
FINAL = frozenset({Result.OK, Result.WARNING, Result.FAILED})
DELIVERED = frozenset({Result.OK, Result.WARNING})
#: What a refused frame (a ``refused`` event: it gets no ``frame`` event) is shown as.
REFUSED = FrameEntry(name="", instrument="", roi="", binning="", timings={}, latency=None,
                     processed=None, delivered=None, result=Result.FAILED, reason=None,
                     warnings=(), finished_at=0.0)


class Tally:
    """The demo's frames and their outcomes; only ``written`` is touched by the camera thread."""

    def __init__(self, names: list[str]) -> None:
        self.names = list(names)
        self.written: list[str] = []  # list.append is atomic: the camera thread appends
        self.outcomes: dict[str, FrameEntry] = {}
        self.waiting: dict[str, str] = {}
        self.steps: dict[str, str] = {}
        self.last_latency: float | None = None

    def note_frame(self, item: FrameEntry) -> FrameEntry | None:
        """Record a ``recent`` item; return it when it is the first final outcome of ours."""
        name = item.name
        if name not in self.names or name in self.outcomes:
            return None
        if item.result == Result.WAITING:
            self.waiting[name] = item.reason or "delivery pending"
            return None
        if item.result not in FINAL:
            return None
        self.waiting.pop(name, None)
        self.outcomes[name] = item
        if item.result in DELIVERED and item.latency is not None:
            self.last_latency = item.latency
        return item

    def note_refused(self, refused: FrameRefused) -> FrameEntry | None:
        """The service will not process one of our frames: it ends there, as failed."""
        return self.note_frame(replace(REFUSED, name=refused.name,
                                       reason=f"requested by {refused.origin}, "
                                              f"{refused.reason}"))

    def note_workers(self, workers: tuple[WorkerEntry, ...]) -> None:
        self.steps = {w.frame: w.step or "starting" for w in workers
                      if w.state == WorkerState.BUSY and w.frame}

    def is_ours(self, message: str) -> bool:
        return message.partition(": ")[0] in self.names

    @property
    def delivered(self) -> list[FrameEntry]:
        return [item for item in self.outcomes.values() if item.result in DELIVERED]

    @property
    def failed(self) -> list[FrameEntry]:
        return [item for item in self.outcomes.values() if item.result == Result.FAILED]

    @property
    def latencies(self) -> list[float]:
        return [item.latency for item in self.delivered if item.latency is not None]

    def pending(self) -> list[str]:
        """Frames written but without an outcome yet, oldest first."""
        return [name for name in list(self.written) if name not in self.outcomes]

    def current(self) -> str:
        """The oldest unfinished frame and where it is, for the progress bar."""
        for name in self.pending():
            where = self.steps.get(name) or ("delivery pending" if name in self.waiting
                                             else "queued")
            return f"{name} ({where})"
        return "camera exposing" if len(self.written) < len(self.names) else ""


def frame_line(item: FrameEntry, tally: Tally) -> str:
    """``[2/6] ok       mods1r.20251230.0001.fits  full 1x1  latency 0.62 s  read 13ms ...``"""
    count = f"[{len(tally.outcomes)}/{len(tally.names)}]"
    if item.result == Result.FAILED:
        return f"{count} FAILED   {item.name}: {item.reason or 'no reason given'}"
    mode = f"{item.roi or '?'} {item.binning or '?'}"  # binning reads "2x2"
    latency = item.latency
    line = (f"{count} {item.result:<8} {item.name}  {mode:<9}  "
            f"latency {'?' if latency is None else f'{latency:.2f}'} s  "
            f"{format_step_timings(item.timings)}")
    if item.warnings:
        line += f"  warnings: {'; '.join(item.warnings)}"
    return line


def summary_lines(tally: Tally) -> list[str]:
    """Frames delivered and failed (with reasons), latency median and max, what is missing."""
    lines = [f"delivered {len(tally.delivered)} of {len(tally.names)} frames, "
             f"failed {len(tally.failed)}"]
    if latencies := tally.latencies:
        lines.append(f"latency (datagram to delivered copy): median "
                     f"{statistics.median(latencies):.2f} s, max {max(latencies):.2f} s")
    lines += [f"  FAILED {item.name}: {item.reason}" for item in tally.failed]
    for name in tally.pending():
        lines.append(f"  unfinished {name}: {tally.waiting.get(name, 'no outcome yet')}")
    unwritten = len(tally.names) - len(tally.written)
    if unwritten:
        lines.append(f"  {unwritten} frame{'s' if unwritten > 1 else ''} never written")
    return lines


class Display(Protocol):
    def finished(self, item: FrameEntry, tally: Tally) -> None: ...
    def note(self, text: str) -> None: ...
    def refresh(self, tally: Tally) -> None: ...


class PlainDisplay:
    """One line per finished frame on stdout, flushed at once (a pipe, a log file, a test)."""

    def finished(self, item: FrameEntry, tally: Tally) -> None:
        print(frame_line(item, tally), flush=True)

    def note(self, text: str) -> None:
        print(text, flush=True)

    def refresh(self, tally: Tally) -> None:
        pass


class BarDisplay:
    """The same lines above a live bar: frames finished / requested, last latency, current frame."""

    def __init__(self, progress: Progress, total: int) -> None:
        self.progress = progress
        self.task = progress.add_task("frames", total=total, current="starting", last="")

    def finished(self, item: FrameEntry, tally: Tally) -> None:
        self.note(frame_line(item, tally))
        self.refresh(tally)

    def note(self, text: str) -> None:
        # soft_wrap: the terminal wraps a long line, rich does not cut it into two.
        self.progress.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def refresh(self, tally: Tally) -> None:
        last = tally.last_latency
        self.progress.update(self.task, completed=len(tally.outcomes), current=tally.current(),
                             last="" if last is None else f"last {last:.2f} s")


@contextmanager
def open_display(total: int) -> Iterator[Display]:
    """A bar on a terminal, plain lines otherwise; the bar is gone before the summary prints."""
    if not sys.stdout.isatty():
        yield PlainDisplay()
        return
    # Under 80 columns, fixed widths first: the frame and its step, of varying length, last.
    columns = (BarColumn(bar_width=20), MofNCompleteColumn(),
               TextColumn("{task.fields[last]}", markup=False),
               TextColumn("{task.fields[current]}", markup=False))
    with Progress(*columns, console=Console(), transient=True) as progress:
        yield BarDisplay(progress, total)


async def follow(connection: ControlConnection, tally: Tally, display: Display,
                 camera: asyncio.Future[Any]) -> None:
    """Return once the camera is done and every frame it wrote has an outcome.

    Raises what the camera raised, and ``ControlUnavailable`` if the service
    goes away. ``connection`` must be subscribed already.
    """
    wake = asyncio.Event()
    camera.add_done_callback(lambda _: wake.set())
    reader = asyncio.create_task(_read_events(connection, tally, display, wake))
    try:
        while True:
            wake.clear()  # before the checks: a wake-up during them is not lost
            if reader.done():
                reader.result()
                raise ControlUnavailable("the service closed the connection")
            if camera.done():
                camera.result()
                if not tally.pending():
                    return
            display.refresh(tally)
            await wake.wait()
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)


async def _read_events(connection: ControlConnection, tally: Tally, display: Display,
                       wake: asyncio.Event) -> None:
    while True:
        event = await connection.next_event()
        if isinstance(event, FrameFinished | FrameRefused):
            _on_outcome(event, tally, display)
        elif isinstance(event, LogAppended):
            _on_log(event.log, tally, display)
        elif isinstance(event, WorkersChanged):
            tally.note_workers(event.workers)
        elif isinstance(event, Dropped):  # we fell behind: what we missed is in the snapshot
            await _catch_up(connection, tally, display)
        wake.set()


def _on_outcome(event: FrameFinished | FrameRefused, tally: Tally, display: Display) -> None:
    """A frame finished, or was refused (it ends there too)."""
    item = (tally.note_frame(event.frame) if isinstance(event, FrameFinished)
            else tally.note_refused(event))
    if item is not None:
        display.finished(item, tally)


def _on_log(entry: LogEntry, tally: Tally, display: Display) -> None:
    """Warnings not about our frames are shown (a rejected datagram, a full disk)."""
    if entry.level in ("WARNING", "ERROR", "CRITICAL") and not tally.is_ours(entry.message):
        display.note(f"service {entry.level}: {entry.message}")


async def _catch_up(connection: ControlConnection, tally: Tally, display: Display) -> None:
    """After lost events: the outcomes in the snapshot. A refusal among the lost events
    is not in it; that frame stays unfinished until the demo gives up on it."""
    snapshot = await connection.snapshot()
    for item in reversed(snapshot.recent):  # newest first there
        if finished := tally.note_frame(item):
            display.finished(finished, tally)
