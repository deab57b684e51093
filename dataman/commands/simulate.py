"""``dataman simulate``: write synthetic raw frames where the camera server would put them.

Frames go to ``<out>/<chan>/<name>`` (docs/processing.md, "The raw frame": raw frames live at
``<dataDir>/<chan>/<name>``), so pointing ``--out`` at a test dataDir gives
dataMan exactly the tree it expects. With ``--instrument all`` the four
channels take turns and each keeps its own frame numbers, as on the mountain.

``--kind`` chooses what is observed (bias, flat, comp, object), or ``night``
for a night's plan: afternoon calibrations, then science frames, changing
slit mask half-way (:mod:`dataman.sim.night`). Frames are
named after the observing night (``--night``, by default tonight's: the UTC
date, the next one from local noon on, as the service and azcam count it).

With ``--send`` it also plays azcam's part on the wire: after each frame is
complete it sends ``proc <path>`` to a running dataMan (by default to the
``[server]`` address of the configuration, whose ``dataDir`` then receives the
frames), and ``--cadence`` paces the frames as exposures would.

    dataman simulate --count 8 --instrument all --roi 1kx1k --out var/data
    dataman simulate --kind night --count 12 --instrument all --roi 1kx1k
    dataman simulate --send --cadence 30 --count 20
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from dataman.commands.arguments import count_of, night
from dataman.commands.common import add_config_option, config_or_exit
from dataman.commands.send import WILDCARDS, port_number
from dataman.core.errors import EXIT_INTERRUPTED
from dataman.core.geometry import ROI_MODES
from dataman.core.names import INSTRUMENTS, LAST_NUMBER
from dataman.core.nightlog import observing_date
from dataman.sim.camera import SendFailed, simulate_camera
from dataman.sim.frames import FrameSpec
from dataman.sim.night import PLANS, channel_exposures
from dataman.sim.readout import BINNINGS

#: Hours local time is behind UTC when no configuration is read: Arizona, the default of [site].
DEFAULT_UTC_OFFSET = 7.0
#: ``--send`` without a value: the address comes from ``[server]`` of the configuration.
#: Not a string (argparse would pass it through ``type``); port 0 is never a parsed one.
FROM_CONFIG = ("[server]", 0)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``simulate`` subcommand; ``args.func(args)`` runs it and returns the exit status."""
    parser = subparsers.add_parser(
        "simulate",
        help="write synthetic MODS raw frames laid out as azcam writes them",
        description="Write synthetic MODS raw frames, laid out as azcam writes them, into "
        "<out>/<chan>/<name> as the camera server would.",
    )
    parser.add_argument("--count", type=count_of("frames"), default=3,
                        help="frames to write (default 3)")
    parser.add_argument(
        "--night", type=night, default=None,
        help="observing night YYYYMMDD used in file names (default: tonight's, the UTC date "
             "or from local noon on the next one; local time from [site] utcOffset of the "
             "configuration when one is read, else UTC-7)",
    )
    parser.add_argument(
        "--kind", choices=PLANS, default="object",
        help="what the frames are: bias, flat, comp (arc lamps), object, or 'night' for "
             "afternoon calibrations then objects (default object)",
    )
    parser.add_argument(
        "--instrument", choices=(*INSTRUMENTS, "all"), default=INSTRUMENTS[0],
        help="channel, or 'all' to cycle through the four (default MODS1B)",
    )
    parser.add_argument("--roi", choices=tuple(ROI_MODES), default="full", help="readout window")
    parser.add_argument("--binning", type=int, choices=BINNINGS, default=1, help="CCDSUM b b")
    parser.add_argument("--seed", type=int, default=0, help="noise seed of the first frame")
    parser.add_argument("--start-number", type=int, default=1, help="first frame number")
    parser.add_argument("--out", type=Path, default=None,
                        help="dataDir to fill (default: dataDir of the configuration when "
                             "-c or a bare --send is given, else .)")
    parser.add_argument(
        "--send", nargs="?", const=FROM_CONFIG, type=_address, metavar="HOST:PORT",
        help="after each frame, send 'proc <path>' as azcam does, to HOST:PORT "
             "(default: [server] host and port of the configuration)")
    parser.add_argument("--cadence", type=_cadence, default=0.0, metavar="SECONDS",
                        help="start a frame every SECONDS, wall clock (default 0: at once)")
    add_config_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace,
        now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> int:
    """Write (and announce) the frames, one line per frame on stdout; 1 on failure, 130 on ^C.

    ``now`` (aware) decides tonight's observing night when ``--night`` is not given.
    """
    channels = len(INSTRUMENTS) if args.instrument == "all" else 1
    last = args.start_number + (args.count - 1) // channels
    if not 0 <= args.start_number <= last <= LAST_NUMBER:
        print(f"frame numbers {args.start_number}..{last} not in 0..{LAST_NUMBER}", file=sys.stderr)
        return 2
    out, send_to, utc_offset = _destination(args)
    night = args.night or observing_date(now(), utc_offset)
    written: list[Path] = []
    began = time.monotonic()

    def report(path: Path) -> None:
        written.append(path)
        print(f"{path}  {path.stat().st_size} bytes  +{time.monotonic() - began:.2f} s",
              flush=True)

    try:
        simulate_camera(frame_specs(args, night), out, send_to=send_to, cadence=args.cadence,
                        on_frame=report)
    except FileExistsError as error:
        print(f"{error.filename}: exists already, not overwritten "
              "(choose another --start-number or --night)", file=sys.stderr)
        return 1
    except (SendFailed, OSError) as error:
        print(f"dataman simulate: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        done = len(written)
        print(f"dataman simulate: interrupted, {done} frame{'' if done == 1 else 's'} written",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def _destination(args: argparse.Namespace) -> tuple[Path, tuple[str, int] | None, float]:
    """Where frames go, where datagrams go and the site's UTC offset (h).

    The configuration is read only when needed. Frames default to its
    ``dataDir`` whenever it is read, since that is where the service looks up
    the name a ``proc`` datagram carries.
    """
    if args.config is None and args.send != FROM_CONFIG:
        return (args.out if args.out is not None else Path()), args.send, DEFAULT_UTC_OFFSET
    config = config_or_exit(args, create_dirs=False, check_dirs=False)
    send_to = args.send
    if send_to == FROM_CONFIG:
        host = config.server.host
        send_to = (WILDCARDS.get(host, host), config.server.port)
    out = args.out if args.out is not None else config.paths.data_dir
    return out, send_to, config.site.utc_offset


def frame_specs(args: argparse.Namespace, night: str) -> Iterator[FrameSpec]:
    """The frames ``args`` asks for on observing night ``night``, in writing order."""
    channels = INSTRUMENTS if args.instrument == "all" else (args.instrument,)
    exposures = [channel_exposures(args.kind, channel, night) for channel in channels]
    for index in range(args.count):
        turn, channel = divmod(index, len(channels))
        kind, start, setup = next(exposures[channel])
        yield FrameSpec(
            instrument=channels[channel],
            roi=args.roi,
            binning=args.binning,
            night=night,
            number=args.start_number + turn,
            start=start,
            seed=args.seed + index,
            kind=kind,
            primary=setup,
        )






def _address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``[IPv6]:PORT``."""
    host, colon, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise argparse.ArgumentTypeError(f"write an IPv6 address in brackets, [{host}]:{port}")
    if not colon or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"not HOST:PORT: {text!r}")
    return host, port_number(port)


def _cadence(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a number of seconds, at least 0, not {text}")
    return value
