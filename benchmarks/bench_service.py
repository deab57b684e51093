"""Time the service end to end against its goals: every frame as fast as the core.

    .venv/bin/python benchmarks/bench_service.py [--frames 8] [--pairs 4] [--burst 6]
        [--large-burst 20] [--workers 1 2] [--extra-slots 0] [--rounds 2] [--starts 4]
        [--live-frames 5] [--catch-up 40] [--reprocess 20] [--only-live-first]
        [--quick] [--dir /tmp]

For each worker count (``slots = count + --extra-slots``; ``--rounds`` times, alternated
so other load falls on all alike) a real ``dataman run`` is started with
tests/service_harness.py on full raw frames written beforehand and read again just before
use (page cache warm, as in bench_process.py). A latency is measured on the client: from
``time.time()`` just before the datagram goes out until a 2 ms poll sees
``<repoDir>/<name>`` (it appears complete: published with link(2)) and the name in
``<repoDir>/<CHAN>.new``. In each service, in order:

* start - ``dataman run`` is launched and the first frame sent as soon as /proc/net/udp
  shows its UDP port bound (and the pages its outputs take recycled: see recycle.py,
  as before a pair and a replaced worker's frame). Start-up = launch to port bound;
  ready = launch to the last worker's hello (night log);
* steady - ``--frames`` frames one at a time. Before each, bench_process's
  ``process_frame`` runs once in this process (preallocated buffers, as a worker has):
  the in-process reference, meeting the same disk and page-cache weather. The journal
  splits the service's time; CPU and minor page faults are those of supervisor + workers;
* pair - a MODS1B and a MODS1R frame sent together (``--pairs`` times): each one's latency;
* commands - ``dataman send proc`` (of a frame already delivered: a repeat, ignored) and
  ``dataman health``, wall time of the whole command, 5 times each; then both, alternately,
  while a thread sends 10,000 such repeats to the UDP port over ``--flood-seconds``;
* replaced - every worker killed (SIGKILL); once all replacements are idle, one frame,
  necessarily the first of a new worker; ``--starts`` more services per worker count
  measure only the first frame and this one, for more than one sample a service;
* bursts - ``--burst`` then ``--large-burst`` frames, MODS1B/MODS1R alternating, sent at
  once: wall from the first datagram to the last delivered file seen (10 ms poll), CPU,
  and peak memory of supervisor + workers (service_probe.py explains the figures).

In this process, each round: ``--burst`` frames through ``process_frame`` back to back, and
the I/O floor of that burst: the output's bytes written from memory to procDir and repoDir
at once (two threads, as a worker writes them), ``--burst`` times, files kept until the end;
and three times each: the pair floor (one frame's output, then two frames', written at once)
and the core pair - ``process_frame`` started at the same moment here and in a second
process on a frame of its own: what a pair costs with no service around it, the reference
that tells the service's share of a pair's latency from the machine's.

Then, in a service of its own (live_first.py): a live frame's latency during a catch-up of
``--catch-up`` frames the scan finds and during a ``dataman process`` run of ``--reprocess``
frames, each as a ratio to the steady latency of that service (medians of ``--live-frames``).

Outputs are deleted after every frame and burst, then synced, so the disk does not fill
and each measurement starts alike. Prints markdown tables (service_report.py).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import live_first  # noqa: E402
import service_probe as probe  # noqa: E402
import service_report as report  # noqa: E402
from bench_process import prepare, run_dataman  # noqa: E402
from installed import checkout_command, installed_command  # noqa: E402
from recycle import recycle  # noqa: E402
from service_report import Burst, Commands, Latency, Outcome  # noqa: E402

from dataman.core.pipeline import process_frame  # noqa: E402
from dataman.ipc.datagram import encode_proc  # noqa: E402
from dataman.ipc.slots import PREFIX, FrameBudget, instance_id  # noqa: E402
from dataman.sim.frames import DEFAULT_START, FrameSpec, write_raw_frame  # noqa: E402
from tests.service_harness import ServiceProcess, wait_until  # noqa: E402

#: What any command-line tool like ``send``/``health`` imports before doing anything: the
#: floor under their wall times on this machine (the same interpreter and paths).
IMPORT_FLOOR = "import argparse, configobj, configobj.validate, dataclasses, json, pathlib, socket"
RAW_BYTES, OUT_BYTES = 52e6, 155e6  # a full frame, raw and processed (for the space check)
FLOOD = 10_000
COMMAND_RUNS = 5


def write_frames(data_dir: Path, first: int, count: int) -> list[Path]:
    """Full frames, MODS1B (even numbers) and MODS1R (odd) alternating, a minute apart."""
    paths = []
    for number in range(first, first + count):
        instrument = ("MODS1B", "MODS1R")[number % 2]
        spec = FrameSpec(instrument=instrument, roi="full", binning=1, number=number,
                         start=DEFAULT_START + timedelta(minutes=number))
        paths.append(write_raw_frame(data_dir / instrument.lower(), spec))
    return paths


def warm(paths: list[Path]) -> None:
    """Read the raw frames once more so the service finds them in the page cache."""
    for path in paths:
        path.read_bytes()


def clean_outputs(service: ServiceProcess) -> None:
    """Delete delivered and processed files (reservation markers stay), then sync."""
    paths = service.config.paths
    for path in [*paths.repo_dir.glob("*.fits"), *paths.proc_dir.glob("*/*.fits")]:
        path.unlink()
    os.sync()


def check_space(work: Path, frames: int, burst: int, slots: int) -> None:
    need, free = frames * RAW_BYTES + 2 * burst * OUT_BYTES + 1e9, shutil.disk_usage(work).free
    shm_need, shm_free = slots * FrameBudget.largest().size, shutil.disk_usage("/dev/shm").free
    if free < need or shm_free < shm_need:
        sys.exit(f"need {need / 1e9:.1f} GB free in {work} (have {free / 1e9:.1f}) and "
                 f"{shm_need / 1e9:.1f} GB in /dev/shm (have {shm_free / 1e9:.1f})")


def delivered(repo: Path, name: str) -> bool:
    """The file is in repoDir and its channel's last-data file (replaced by rename) names it."""
    new = repo / f"{name.split('.')[0].upper()}.new"
    return (repo / name).exists() and new.exists() and new.read_text().strip() == name


# --- measurements in one service ------------------------------------------------------------


def latencies_of(service: ServiceProcess, raws: list[Path], timeout: float = 60.0,
                 sent: float | None = None) -> list[Latency]:
    """Send ``raws`` at once (unless already sent at ``sent``); each one's latency.

    CPU and faults are those of supervisor + workers over all of them, per frame.
    """
    repo = service.config.paths.repo_dir
    processes = probe.service_processes(service.process.pid)
    faults, cpu = probe.minor_faults(processes), probe.cpu_seconds(processes)
    if sent is None:
        sent = time.time()
        for raw in raws:
            service.send(raw)
    seen: dict[str, float] = {}
    while len(seen) < len(raws):
        for raw in raws:
            if raw.name not in seen and delivered(repo, raw.name):
                seen[raw.name] = time.time()
        if time.time() - sent > timeout:
            service.check_alive()
            raise TimeoutError(f"{len(raws) - len(seen)} frames not delivered after "
                               f"{timeout:.0f} s")
        time.sleep(0.002)
    service.wait_states([raw.name for raw in raws])
    share = {"cpu": (probe.cpu_seconds(processes) - cpu) / len(raws),
             "faults": (probe.minor_faults(processes) - faults) / len(raws)}
    return [Latency(seen[raw.name] - sent, {
        **probe.journal_split(service.record(raw.name), sent, seen[raw.name]), **share})
        for raw in raws]


def start_and_first_frame(service: ServiceProcess, raw: Path, outcome: Outcome) -> None:
    """Launch ``dataman run``, send ``raw`` as soon as its UDP port is bound (after
    recycling the pages its outputs will take, recycle.py); wait ready."""
    port = service.config.server.port
    warm([raw])
    launched = time.time()
    service.start(wait=False)
    while not probe.udp_bound(port):
        service.check_alive()
        if time.time() - launched > 60:
            raise TimeoutError("the UDP port was not bound within 60 s")
        time.sleep(0.001)
    bound = time.time()
    recycle(service.folder, 2 * OUT_BYTES)  # see recycle.py
    sent = time.time()
    service.send(raw)
    outcome.startup.append(bound - launched)
    outcome.first += latencies_of(service, [raw], sent=sent)
    service.wait_ready()
    outcome.ready.append(ready_time(service, launched))
    clean_outputs(service)


def ready_time(service: ServiceProcess, launched: float) -> float:
    """Launch to the last worker's hello, from the night log ("worker N started (pid ...")."""
    hellos = [datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=UTC)
              for line in service.log_text().splitlines()
              if " | INFO | worker " in line and " started (pid " in line]
    return max(hellos).timestamp() - launched if hellos else float("nan")


def replace_workers(service: ServiceProcess, workers: int) -> float:
    """SIGKILL every worker; seconds until as many new ones are idle."""
    snapshot = service.snapshot()
    old = {worker.pid for worker in (snapshot.workers if snapshot else ())}
    killed = time.time()
    for pid in old:
        os.kill(pid, signal.SIGKILL)

    def replaced() -> bool:
        snap = service.snapshot()
        fresh = [w for w in (snap.workers if snap else ())
                 if w.state == "idle" and w.pid not in old]
        return len(fresh) >= workers
    wait_until(replaced, 60, what="replacement workers", interval=0.005)
    return time.time() - killed


def commands_of(service: ServiceProcess, command: list[str], repeat: Path, flood_seconds: float,
                commands: Commands) -> None:
    """``send`` and ``health`` walls, alone and during a flood of repeated requests: of
    ``command`` (installed as on the service host), and alone of the checkout's script."""
    config = str(service.config_path)
    send = [*command, "send", "proc", "-c", config, str(repeat)]
    health = [*command, "health", "-c", config]
    for _ in range(COMMAND_RUNS):
        commands.send.append(probe.command_wall(send)[0])
        commands.health.append(probe.command_wall(health)[0])
        commands.checkout_send.append(probe.command_wall(
            [*checkout_command(), "send", "proc", "-c", config, str(repeat)])[0])
        commands.checkout_health.append(probe.command_wall(
            [*checkout_command(), "health", "-c", config])[0])
        commands.floor.append(probe.command_wall([command[0], "-c", IMPORT_FLOOR])[0])
    flood = threading.Thread(target=flood_port, daemon=True,
                             args=(service.config.server.port, encode_proc(repeat),
                                   flood_seconds, commands))
    flood.start()
    while flood.is_alive():
        wall, status = probe.command_wall(health)
        commands.flood_health.append(wall)
        commands.flood_health_status.append(status)
        if flood.is_alive():
            commands.flood_send.append(probe.command_wall(send)[0])
    flood.join()


def flood_port(port: int, payload: bytes, seconds: float, commands: Commands) -> None:
    """Send ``FLOOD`` copies of ``payload`` spread evenly over ``seconds``."""
    started = time.monotonic()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for index in range(FLOOD):
            sock.sendto(payload, ("127.0.0.1", port))
            if index % 500 == 499:
                while time.monotonic() - started < seconds * (index + 1) / FLOOD:
                    time.sleep(0.001)
    commands.flood_took.append(time.monotonic() - started)


def burst_of(service: ServiceProcess, raws: list[Path], shm_prefix: str) -> Burst:
    repo, pending = service.config.paths.repo_dir, {raw.name for raw in raws}
    processes = probe.service_processes(service.process.pid)
    service_before, bench_before, machine_before = (
        probe.cpu_seconds(processes), probe.own_cpu(), psutil.cpu_times())
    with probe.MemoryProbe(service.process.pid, shm_prefix) as sampler:
        start = time.time()
        for raw in raws:
            service.send(raw)
        while pending:
            pending = {name for name in pending if not (repo / name).exists()}
            if pending and time.time() - start > 30 + 10 * len(raws):
                service.check_alive()
                raise TimeoutError(f"burst: {len(pending)} frames not delivered")
            time.sleep(0.01)
        wall = time.time() - start
        service_cpu, bench_cpu = probe.cpu_seconds(processes), probe.own_cpu()
        machine = probe.cpu_split(machine_before, psutil.cpu_times())
        service.wait_states([raw.name for raw in raws])
    records = [service.record(raw.name) for raw in raws]
    last = max(record["delivered_at"] for record in records)
    return Burst(len(raws), wall, last - start, service_cpu - service_before,
                 bench_cpu - bench_before, machine, sampler.peak, sampler.samples,
                 probe.dispatch_gaps(records))


class Frames:
    """The raw frames of every measurement; each service has its own journal, so they are
    reused from one service to the next."""

    def __init__(self, data_dir: Path, args: argparse.Namespace) -> None:
        self.first = write_frames(data_dir, 1, 1)[0]
        # Exposure numbers rise in the order of sending: <CHAN>.new never goes backwards,
        # and a frame counts as delivered once .new names it.
        self.replaced = write_frames(data_dir, 90, 1)[0]
        self.steady = write_frames(data_dir, 10, args.frames)
        self.pairs = [write_frames(data_dir, 40 + 2 * index, 2) for index in range(args.pairs)]
        self.bursts = [write_frames(data_dir, 100, args.burst),
                       write_frames(data_dir, 200, args.large_burst)]
        os.sync()  # the raw frames' writeback must not fall on the first measurements


@contextlib.contextmanager
def running_service(frames: Frames, workers: int, args: argparse.Namespace,
                    outcome: Outcome) -> Iterator[ServiceProcess]:
    """``dataman run`` with ``workers`` workers, started with its first frame measured;
    stopped (cleanly, or the benchmark fails) and removed on leaving."""
    service = ServiceProcess(paths={"dataDir": frames.first.parent.parent},
                             workers={"count": workers, "slots": workers + args.extra_slots,
                                      "slotSize": "full"})
    try:
        start_and_first_frame(service, frames.first, outcome)
        yield service
        if service.stop() != 0:
            raise RuntimeError(f"dataman run did not stop cleanly:\n{service.stderr()}")
    finally:
        service.cleanup()
        shutil.rmtree(service.folder, ignore_errors=True)


def replaced_worker_frame(service: ServiceProcess, frames: Frames, outcome: Outcome) -> None:
    """Kill every worker, then time one frame: necessarily a new worker's first."""
    outcome.replace_wait.append(replace_workers(service, outcome.workers))
    warm([frames.replaced])
    recycle(service.folder, 2 * OUT_BYTES)
    outcome.replaced += latencies_of(service, [frames.replaced])
    clean_outputs(service)


def measure_service(outcome: Outcome, frames: Frames, core: CoreRunner,
                    args: argparse.Namespace) -> None:
    """One service with ``outcome.workers`` workers, from start to stop; adds to ``outcome``."""
    with running_service(frames, outcome.workers, args, outcome) as service:
        prefix = f"{PREFIX}{instance_id(service.config.paths.state_dir)}-"
        outcome.idle.peak(probe.sample(service.process.pid, prefix, pss=True))
        warm(frames.steady)
        for raw in frames.steady:
            core.run_once()
            outcome.latencies += latencies_of(service, [raw])
            clean_outputs(service)
        for pair in frames.pairs:
            warm(pair)
            recycle(service.folder, 4 * OUT_BYTES)
            outcome.pairs.append(latencies_of(service, pair))
            clean_outputs(service)
        commands_of(service, args.command, frames.steady[-1], args.flood_seconds,
                    outcome.commands)
        replaced_worker_frame(service, frames, outcome)
        for raws in frames.bursts:
            warm(raws)
            outcome.bursts.append(burst_of(service, raws, prefix))
            clean_outputs(service)


def measure_starts(outcome: Outcome, frames: Frames, args: argparse.Namespace) -> None:
    """A service started only for its first frame and its replaced workers' first frame:
    one sample each is too few to tell a slow write from a slow start."""
    with running_service(frames, outcome.workers, args, outcome) as service:
        replaced_worker_frame(service, frames, outcome)


def _pair_partner(work: Path, orders: Connection) -> None:
    """The second process of a core pair: ``process_frame`` on a frame of its own whenever
    told, answering with the ``perf_counter`` (one clock for all processes on Linux) at
    which its ``<CHAN>.new`` was written, i.e. before its thumbnail."""
    bench = prepare(work)
    orders.send("ready")
    while orders.recv() == "go":
        run = run_dataman(bench.raw, bench.config, bench.buffers, keep_end=True)
        orders.send(run["end"])
    orders.close()


class CorePair:
    """Two ``process_frame`` started at once in two processes, as two workers would run a
    blue and a red frame with no service around them: what a pair costs the core itself."""

    def __init__(self, work: Path) -> None:
        # spawn, not fork: this process already runs the pipeline's thread pools
        context = multiprocessing.get_context("spawn")
        self._orders, theirs = context.Pipe()
        self._partner = context.Process(target=_pair_partner, args=(work, theirs), daemon=True)
        self._partner.start()
        if self._orders.recv() != "ready":
            raise RuntimeError("the core pair's second process did not start")
        self.later: list[float] = []  # seconds from the start to the later <CHAN>.new

    def run(self, runner: CoreRunner, scratch: Path) -> None:
        warm([runner.raw])
        recycle(scratch, 2 * len(runner.output))
        start = time.perf_counter()
        self._orders.send("go")
        ours = run_dataman(runner.raw, runner.config, runner.buffers, keep_end=True)["end"]
        self.later.append(max(ours, self._orders.recv()) - start)
        os.sync()

    def close(self) -> None:
        self._orders.send("stop")
        self._partner.join(timeout=30)


class CoreRunner:
    """bench_process's ``process_frame`` run, on a full frame of its own, in this process."""

    def __init__(self, work: Path) -> None:
        bench = prepare(work)
        self.config, self.raw, self.buffers = bench.config, bench.raw, bench.buffers
        self.output = bench.output.read_bytes()
        bench.output.unlink()
        self.runs: list[dict[str, float]] = []
        self.bursts: list[tuple[int, float]] = []  # (frames, wall seconds)
        self.floors: list[tuple[int, float]] = []
        #: frames (1 or 2) -> walls of their outputs written at once (pair_floor)
        self.pair_floors: dict[int, list[float]] = {}
        self.pair: CorePair | None = None

    def burst(self, count: int) -> None:
        """``count`` frames back to back, outputs kept until the end as in a service burst."""
        warm([self.raw])
        start, results = time.perf_counter(), []
        logging.disable(logging.WARNING)  # "exists; written as <UNIQNAME>" after the first
        for _ in range(count):
            results.append(process_frame(self.raw, self.config, buffers=self.buffers))
        self.bursts.append((count, time.perf_counter() - start))
        logging.disable(logging.NOTSET)
        # A frame processed again replaces its own outputs (same names): one file each.
        for path in {path for result in results for path in (result.processed, result.delivered)}:
            path.unlink(missing_ok=True)
        os.sync()

    def floor(self, count: int) -> None:
        """The output written ``count`` times to procDir and repoDir at once, from memory."""
        paths = self.config.paths
        targets = [(paths.proc_dir / f"floor{index}.fits", paths.repo_dir / f"floor{index}.fits")
                   for index in range(count)]
        with ThreadPoolExecutor(max_workers=1) as other:
            start = time.perf_counter()
            for processed, delivery in targets:
                future = other.submit(delivery.write_bytes, self.output)
                processed.write_bytes(self.output)
                future.result()
            self.floors.append((count, time.perf_counter() - start))
        for pair in targets:
            for path in pair:
                path.unlink()
        os.sync()

    def pair_floor(self, scratch: Path) -> None:
        """One frame's output written to procDir and repoDir at once (2 threads), then two
        frames' (4 threads), each after recycling its pages: the machine's own cost of a
        pair, which no scheduling of workers can beat."""
        paths = self.config.paths
        for frames in (1, 2):
            targets = [folder / f"pair{index}.fits" for index in range(frames)
                       for folder in (paths.proc_dir, paths.repo_dir)]
            recycle(scratch, len(targets) * len(self.output))
            with ThreadPoolExecutor(max_workers=len(targets)) as pool:
                start = time.perf_counter()
                list(pool.map(lambda path: path.write_bytes(self.output), targets))
                self.pair_floors.setdefault(frames, []).append(time.perf_counter() - start)
            for path in targets:
                path.unlink()

    def run_once(self) -> None:
        warm([self.raw])
        faults = probe.own_minor_faults()
        run = run_dataman(self.raw, self.config, self.buffers)
        # To <CHAN>.new, where the service's latency ends too: the thumbnail comes after.
        run["total"] -= run.get("thumbnail", 0.0)
        self.runs.append({**run, "cpu": run["user"] + run["sys"],
                          "faults": probe.own_minor_faults() - faults})
        os.sync()


# --- main -----------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=8, help="steady frames per service")
    parser.add_argument("--pairs", type=int, default=4, help="blue+red pairs per service")
    parser.add_argument("--burst", type=int, default=6)
    parser.add_argument("--large-burst", type=int, default=20)
    parser.add_argument("--flood-seconds", type=float, default=2.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--extra-slots", type=int, default=0, help="slots beyond the workers")
    parser.add_argument("--rounds", type=int, default=2, help="services started per count")
    parser.add_argument("--starts", type=int, default=4,
                        help="more services per count, for the first frames only")
    parser.add_argument("--live-frames", type=int, default=5,
                        help="live frames per phase of live_first.py (3 at least)")
    parser.add_argument("--catch-up", type=int, default=40, help="frames the scan finds")
    parser.add_argument("--reprocess", type=int, default=20,
                        help="frames of the dataman process run beside the service")
    parser.add_argument("--only-live-first", action="store_true",
                        help="only live_first.py's phases")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 frames, bursts 2, 4")
    parser.add_argument("--dir", type=Path, default=Path("/tmp"),
                        help="parent of the work folder (short: socket paths are limited)")
    args = parser.parse_args()
    if args.quick:
        args.frames, args.pairs, args.burst, args.large_burst, args.rounds = 2, 1, 2, 4, 1
        args.starts, args.live_frames, args.catch_up, args.reprocess = 0, 3, 6, 4
    if args.live_frames < 3:
        parser.error("--live-frames: 3 at least (the ratios are of medians)")
    return args


def measure_live_first(work: Path, args: argparse.Namespace) -> None:
    """live_first.py's three phases in a service of their own; prints their table."""
    frames = 3 * args.live_frames + args.catch_up + args.reprocess
    check_space(work.parent, frames, args.catch_up + args.live_frames, 2)
    phases = live_first.measure(work, args.live_frames, args.catch_up, args.reprocess)
    live_first.print_table(phases, args.catch_up, args.reprocess)


def main() -> None:
    args = parse_args()
    if args.only_live_first:
        started, load = time.monotonic(), os.getloadavg()
        with tempfile.TemporaryDirectory(dir=args.dir, prefix="dmb") as work:
            measure_live_first(Path(work), args)
        print(f"\n(load average at the start {load[0]:.1f}; took "
              f"{time.monotonic() - started:.0f} s)")
        return
    frames = 2 + args.frames + 2 * args.pairs + args.burst + args.large_burst
    check_space(args.dir, frames, args.large_burst, max(args.workers) + args.extra_slots)
    started, load = time.monotonic(), os.getloadavg()
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="dmb") as work:
        core = CoreRunner(Path(work) / "core")
        core.pair = CorePair(Path(work) / "core-pair")
        args.command, args.command_kind = installed_command(Path(work) / "command")
        raws = Frames(Path(work) / "data", args)
        outcomes = {count: Outcome(count) for count in args.workers}
        for _ in range(args.rounds):  # alternated, so other load falls on all alike
            core.burst(args.burst)
            core.floor(args.burst)
            for _ in range(3):
                core.pair_floor(Path(work) / "scratch")
                core.pair.run(core, Path(work) / "scratch")
            for outcome in outcomes.values():
                measure_service(outcome, raws, core, args)
        for _ in range(args.starts):
            for outcome in outcomes.values():
                measure_starts(outcome, raws, args)
        core.pair.close()
        report.report(core, list(outcomes.values()), load, args.extra_slots, args.command_kind)
        measure_live_first(Path(work) / "live-first", args)
    print(f"\n(benchmark took {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
