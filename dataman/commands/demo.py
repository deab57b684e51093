"""``dataman demo``: a newcomer's first command, the real service fed by a simulated camera.

The demo does what happens on the mountain: ``dataman run`` on the
configuration (the embedded default unless ``-c``) receives a ``proc`` datagram
for each frame a stand-in camera (:func:`simulate_camera`) writes at a cadence,
and the demo watches the service through the control socket as the console
does, then prints a summary. A service already running on the configuration is
used and left running; one the demo started is stopped at the end, after
Ctrl-C or a failure too, so a demo leaves no process or shared memory behind.
It ends with the night report (``dataman report``) and prints where it is.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dataman.commands.arguments import count_of
from dataman.commands.common import add_config_option, config_or_exit
from dataman.commands.demo_progress import Display, Tally, follow, open_display, summary_lines
from dataman.commands.send import WILDCARDS
from dataman.core.config import Config
from dataman.core.errors import EXIT_INTERRUPTED, DataManError
from dataman.core.geometry import ROI_MODES
from dataman.core.names import LAST_NUMBER, RAW_NAME
from dataman.core.nightlog import default_hostid, night_log_path, observing_date
from dataman.ipc.connection import ControlConnection
from dataman.ipc.control import (
    ControlError,
    ControlUnavailable,
    ProtocolVersionError,
    request,
    request_snapshot,
)
from dataman.ipc.protocol import ProtocolError
from dataman.ipc.protocol_requests import StopRequest
from dataman.ipc.protocol_snapshot import Snapshot
from dataman.ipc.states import ServiceState, WorkerState
from dataman.sim.camera import SendFailed, simulate_camera
from dataman.sim.frames import FrameSpec

#: Both channels and several readout modes, so the summary shows how timing varies.
PLAN = [("MODS1B", "full", 1), ("MODS1R", "full", 1), ("MODS1B", "3kx3k", 1),
        ("MODS1R", "1kx1k", 1), ("MODS1B", "full", 2), ("MODS1R", "4kx3k", 1)]
#: What each channel's successive demo frames observe: a calibration of each kind, then science.
DEMO_KINDS = ("bias", "flat", "comp", "object", "object", "object")
READY_TIMEOUT = 30.0
#: Allowed per frame before the demo gives up (a full frame takes about a second).
FRAME_TIMEOUT = 30.0
POLL = 0.05  # seconds between looks at a starting service


class DemoFailed(DataManError):
    """The demo could not run to its end; the message says why."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="run the service fed by a simulated camera, with progress and a summary",
        description="Start dataman run on the configuration (or use the one already "
        "running), play the camera: write frames into dataDir at a cadence and send "
        "'proc' for each, follow the service until every frame is delivered, summarise.")
    parser.add_argument("--frames", type=count_of("frames"), default=6,
                        help="number of frames (default 6)")
    parser.add_argument("--cadence", type=_seconds, default=1.0, metavar="SECONDS",
                        help="start a frame every SECONDS (default 1)")
    parser.add_argument("--roi", choices=tuple(ROI_MODES), default=None,
                        help="every frame in this readout window (default: a varied plan)")
    add_config_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Exit 0 when every frame was delivered, 1 otherwise, 130 after Ctrl-C."""
    config = config_or_exit(args)
    print(f"dataMan demo: {args.frames} simulated frames, one every {args.cadence:g} s, "
          f"configuration {config.source}", flush=True)
    try:
        specs = demo_plan(config, args.frames, args.roi)
        tally = Tally([spec.name for spec in specs])
        child, snapshot = attach_or_start(config)
    except DemoFailed as error:
        print(f"dataman demo: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # attach_or_start has stopped what it started
        print("dataman demo: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    status = 1
    try:
        status = _play(config, specs, args.cadence, tally)
        if tally.written:
            _summary(config, tally, snapshot)
            _report(config, specs[0].night)
    finally:
        if child is not None and not child.stop_and_report(config):
            status = max(status, 1)
    return status


def _play(config: Config, specs: list[FrameSpec], cadence: float, tally: Tally) -> int:
    """Camera and progress until every frame has an outcome: 0 all delivered, 1, or 130."""
    try:
        with open_display(len(specs)) as display:
            asyncio.run(_drive(config, specs, cadence, tally, display))
    except DemoFailed as error:
        print(f"dataman demo: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("dataman demo: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0 if len(tally.delivered) == len(specs) else 1


def demo_plan(config: Config, frames: int, roi: str | None = None) -> list[FrameSpec]:
    """The frames to write, numbered after those of tonight that dataMan has seen already."""
    now = datetime.now(UTC).replace(microsecond=0)
    night = observing_date(now, config.site.utc_offset)
    numbers: dict[str, itertools.count[int]] = {}
    kinds: dict[str, itertools.cycle[str]] = {}
    specs = []
    for index, (instrument, mode, binning) in zip(range(frames), itertools.cycle(PLAN)):
        if instrument not in numbers:
            numbers[instrument] = itertools.count(_next_number(config, instrument, night))
            kinds[instrument] = itertools.cycle(DEMO_KINDS)
        number = next(numbers[instrument])
        if number > LAST_NUMBER:
            raise DemoFailed(f"{instrument} has frame {LAST_NUMBER} of night {night} already: "
                             "no number left for a demo frame")
        specs.append(FrameSpec(instrument=instrument, roi=roi or mode, binning=binning,
                               night=night, number=number, seed=number,
                               kind=next(kinds[instrument]),
                               start=now + timedelta(seconds=index * 2)))
    return specs


def _next_number(config: Config, instrument: str, night: str) -> int:
    """One more than the highest number of ``night`` in dataDir, procDir or repoDir.

    Not only the raw folder: the service's journal remembers a name whose raw
    file was deleted and would not process it again, but its outputs remain.
    """
    paths = config.paths
    pattern = f"{instrument.lower()}.{night}.*.fits"
    folders = (paths.data_dir / instrument.lower(), paths.proc_dir / night, paths.repo_dir)
    names = (RAW_NAME.fullmatch(path.name) for folder in folders for path in folder.glob(pattern))
    return max((int(match.group(3)) for match in names if match), default=0) + 1


def attach_or_start(config: Config) -> tuple[ServiceChild | None, Snapshot]:
    """The service that answers on the control socket, else a new one once it is ready."""
    try:
        snapshot = request_snapshot(config.server.control_socket, timeout=2.0, client="demo")
    except (ProtocolVersionError, ProtocolError) as error:  # a service is there: not ours
        raise DemoFailed(str(error)) from None
    except (ControlUnavailable, ControlError):
        child = ServiceChild(config.source)
        try:
            snapshot = child.wait_ready(config.server.control_socket, READY_TIMEOUT)
        except BaseException as error:  # Ctrl-C included: never leave a half-started service
            child.stop(config)
            if isinstance(error, DemoFailed):
                raise DemoFailed(f"{error}\n{child.stderr_tail()}") from None
            raise
        print(f"started the service: dataman run -c {config.source} (pid {child.process.pid}),"
              f" {len(snapshot.workers)} workers ready", flush=True)
        return child, snapshot
    print(f"using the dataMan already running on this configuration "
          f"(pid {snapshot.service.pid}); it keeps running afterwards", flush=True)
    return None, snapshot


class ServiceChild:
    """``dataman run -c FILE`` started by the demo.

    It runs in its own session, so Ctrl-C reaches only the demo, which then
    stops the service in order (finish the frames in hand, free the slots).
    stderr goes to a file: nobody reads a pipe while the demo waits.
    """

    def __init__(self, config_path: Path) -> None:
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 (as long as the child lives)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dataman.cli", "run", "-c", str(config_path)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.stderr,
            start_new_session=True)

    def wait_ready(self, socket_path: Path, timeout: float) -> Snapshot:
        """The first snapshot in which every worker has started; DemoFailed if none comes."""
        deadline = time.monotonic() + timeout
        why = "no answer yet"
        while self.process.poll() is None:
            try:
                snapshot = request_snapshot(socket_path, timeout=1.0, client="demo")
                workers, service = snapshot.workers, snapshot.service
                if service.state != ServiceState.STARTING and \
                        len(workers) >= service.workers_expected and all(
                        worker.state in (WorkerState.IDLE, WorkerState.BUSY) for worker in workers):
                    return snapshot
                why = "workers still starting"
            except (ProtocolVersionError, ProtocolError) as error:
                raise DemoFailed(str(error)) from None
            except (ControlUnavailable, ControlError) as error:
                why = str(error)
            if time.monotonic() > deadline:
                raise DemoFailed(f"the service was not ready within {timeout:g} s ({why})")
            time.sleep(POLL)
        raise DemoFailed(f"the service exited with status {self.process.returncode} "
                         "before it was ready")

    def stop(self, config: Config) -> int:
        """Ask the service to stop (control socket, else SIGTERM), wait; its exit status."""
        if self.process.poll() is None:
            try:
                request(config.server.control_socket, StopRequest(), timeout=5.0)
            except (ControlUnavailable, ControlError):
                self.process.terminate()
            try:
                self.process.wait(config.service.stop_timeout + 15.0)
            except subprocess.TimeoutExpired:
                self.stop_now()
        return self.process.returncode

    def stop_and_report(self, config: Config) -> bool:
        """Stop, say so, show stderr if it did not end cleanly; True when it did."""
        code = self.stop(config)
        print(f"stopped the service (pid {self.process.pid}, exit status {code})", flush=True)
        if code != 0:
            print(self.stderr_tail(), file=sys.stderr)
        return code == 0

    def stop_now(self) -> None:
        """SIGKILL the service and whatever of its session is left (its workers)."""
        self.process.kill()
        self.process.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def stderr_tail(self, lines: int = 15) -> str:
        self.stderr.seek(0)
        tail = self.stderr.read().decode(errors="replace").splitlines()[-lines:]
        return "\n".join(["service stderr (last lines):", *tail] if tail else
                         ["service stderr: empty"])


async def _drive(config: Config, specs: list[FrameSpec], cadence: float, tally: Tally,
                 display: Display) -> None:
    """Run the camera in a thread and follow the service until every frame has an outcome."""
    try:
        connection = await ControlConnection.open(config.server.control_socket, timeout=5.0,
                                                  client="demo")
    except ControlUnavailable as error:
        raise DemoFailed(f"cannot follow the service: {error}") from None
    try:
        await connection.subscribe()
        await _camera_and_follow(connection, config, specs, cadence, tally, display)
    except (ControlUnavailable, ControlError, ProtocolError) as error:
        raise DemoFailed(f"lost the service: {error}") from None
    finally:
        await connection.close()


async def _camera_and_follow(connection: ControlConnection, config: Config,
                             specs: list[FrameSpec], cadence: float, tally: Tally,
                             display: Display) -> None:
    host, port = config.server.host, config.server.port
    limit = len(specs) * (FRAME_TIMEOUT + cadence)
    stop = threading.Event()
    camera = asyncio.ensure_future(asyncio.to_thread(
        simulate_camera, specs, config.paths.data_dir, send_to=(WILDCARDS.get(host, host), port),
        cadence=cadence, on_frame=lambda path: tally.written.append(path.name), stop=stop))
    try:
        async with asyncio.timeout(limit):
            await follow(connection, tally, display, camera)
    except TimeoutError:
        raise DemoFailed(f"gave up after {limit:g} s, still waiting for "
                         f"{', '.join(tally.pending()) or 'the camera'} (is 127.0.0.1 among "
                         "[server] allowedSenders? see the night log)") from None
    except FileExistsError as error:
        raise DemoFailed(f"{error.filename} exists already, not overwritten") from None
    except (SendFailed, OSError) as error:
        raise DemoFailed(f"camera: {error}") from None
    finally:
        stop.set()  # the camera ends between frames
        await asyncio.gather(camera, return_exceptions=True)


def _summary(config: Config, tally: Tally, snapshot: Snapshot) -> None:
    log_file = snapshot.service.log_file or _night_log(config)
    print("", *summary_lines(tally), sep="\n")
    print(f"processed files: {config.paths.proc_dir}")
    print(f"staging (repoDir): {config.paths.repo_dir}")
    print(f"night log: {log_file}", flush=True)


def _report(config: Config, night: str) -> None:
    """The night report so far (``dataman report``), and where it is."""
    from dataman.service.journal import JournalError
    from dataman.service.report import write_report  # matplotlib: only now

    try:
        written = write_report(config, night)
    except (JournalError, OSError) as error:
        print(f"night report: not written: {error}", flush=True)
        return
    print(f"night report: {written.path or 'no frames, none written'}", flush=True)


def _night_log(config: Config) -> Path:
    """Where the night log is tonight, when the service said nothing (it stopped early)."""
    night = observing_date(datetime.now(UTC), config.site.utc_offset)
    return night_log_path(config.paths.log_dir, config.server.hostid or default_hostid(),
                          night)




def _seconds(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a number of seconds, at least 0, not {text}")
    return value
