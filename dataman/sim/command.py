"""``dataman simulate``: write synthetic raw frames where the camera server would put them.

Frames go to ``<out>/<chan>/<name>`` (SPEC §2: raw frames live at
``<dataDir>/<chan>/<name>``), so pointing ``--out`` at a test dataDir gives
dataMan exactly the tree it expects. With ``--instrument all`` the four
channels take turns and each keeps its own frame numbers, as on the mountain.

    dataman simulate --count 8 --instrument all --roi 1kx1k --out var/data
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dataman.core.geometry import ROI_MODES
from dataman.sim.frames import DEFAULT_START, INSTRUMENTS, FrameSpec, raw_name, write_raw_frame
from dataman.sim.readout import BINNINGS

#: Simulated time between the starts of consecutive frames of one channel (s):
#: the default 300 s exposure plus readout and overheads.
FRAME_INTERVAL = 360.0
LAST_NUMBER = 9999


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``simulate`` subcommand; ``args.func(args)`` runs it and returns the exit status."""
    parser = subparsers.add_parser(
        "simulate",
        help="write synthetic MODS raw frames laid out as azcam writes them",
        description="Write synthetic MODS raw frames, laid out as azcam writes them, into "
        "<out>/<chan>/<name> as the camera server would.",
    )
    parser.add_argument("--count", type=_positive, default=3, help="frames to write (default 3)")
    parser.add_argument(
        "--night", type=_night, default=datetime.now(UTC).strftime("%Y%m%d"),
        help="observing night YYYYMMDD used in file names (default: today, UTC)",
    )
    parser.add_argument(
        "--instrument", choices=(*INSTRUMENTS, "all"), default=INSTRUMENTS[0],
        help="channel, or 'all' to cycle through the four (default MODS1B)",
    )
    parser.add_argument("--roi", choices=tuple(ROI_MODES), default="full", help="readout window")
    parser.add_argument("--binning", type=int, choices=BINNINGS, default=1, help="CCDSUM b b")
    parser.add_argument("--seed", type=int, default=0, help="noise seed of the first frame")
    parser.add_argument("--start-number", type=int, default=1, help="first frame number")
    parser.add_argument("--out", type=Path, default=Path(), help="dataDir to fill (default .)")
    # Later: --send HOST:PORT (datagram 'proc <path>' to a running dataMan after each frame)
    # and --cadence SECONDS (pace the frames); both act in run() where marked.
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the frames, one line per frame on stdout; exit status 1 if a file exists already."""
    channels = len(INSTRUMENTS) if args.instrument == "all" else 1
    last = args.start_number + (args.count - 1) // channels
    if not 0 <= args.start_number <= last <= LAST_NUMBER:
        print(f"frame numbers {args.start_number}..{last} not in 0..{LAST_NUMBER}", file=sys.stderr)
        return 2
    for spec in frame_specs(args):
        folder = args.out / spec.instrument.lower()
        began = time.perf_counter()
        try:
            path = write_raw_frame(folder, spec)
        except FileExistsError:
            print(f"{folder / spec.name}: exists already, not overwritten "
                  "(choose another --start-number or --night)", file=sys.stderr)
            return 1
        print(f"{path}  {path.stat().st_size} bytes  {time.perf_counter() - began:.2f} s")
        # --send and --cadence go here: notify the service of `path`, then wait for the next slot.
    return 0


def frame_specs(args: argparse.Namespace) -> Iterator[FrameSpec]:
    """The frames ``args`` asks for, in writing order."""
    channels = INSTRUMENTS if args.instrument == "all" else (args.instrument,)
    night = datetime.strptime(args.night, "%Y%m%d").date()
    first_start = datetime.combine(night, DEFAULT_START.timetz())
    for index in range(args.count):
        turn, channel = divmod(index, len(channels))
        yield FrameSpec(
            instrument=channels[channel],
            roi=args.roi,
            binning=args.binning,
            night=args.night,
            number=args.start_number + turn,
            start=first_start + timedelta(seconds=turn * FRAME_INTERVAL),
            seed=args.seed + index,
        )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _night(text: str) -> str:
    try:
        raw_name(INSTRUMENTS[0], text, 0)
        datetime.strptime(text, "%Y%m%d")
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a night YYYYMMDD: {text!r}") from error
    return text
