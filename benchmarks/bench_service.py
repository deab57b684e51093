"""Time the service end to end: datagram to delivered file, bursts with 1 and 2 workers, memory.

    .venv/bin/python benchmarks/bench_service.py [--frames-latency 8] [--burst 20]
        [--small-burst 5] [--workers 1 2] [--rounds 2] [--quick] [--dir /tmp]

For each worker count (``slots = count + 1``; ``--rounds`` times, alternated) a real
``dataman run`` is started with tests/service_harness.py on full raw frames written
beforehand and read again just before use (page cache warm, as in bench_process.py):

* latency - frames sent one at a time, timed on the client: from ``time.time()`` just
  before the datagram goes out until a 2 ms poll sees ``<repoDir>/<name>`` (it appears
  complete: published with link(2)) and the name in ``<repoDir>/<CHAN>.new``. Before each
  frame the core benchmark's ``process_frame`` runs once in this process
  (bench_process.run_dataman, preallocated buffers as a worker has): the single-process
  figure, meeting the same disk and page-cache weather. The journal splits the service's
  time (requested_at, started_at, the worker's step timings);
* bursts - ``--small-burst`` then ``--burst`` frames, MODS1B/MODS1R alternating, sent at
  once; wall time from the first datagram to the last delivered file seen (10 ms poll),
  CPU used, and peak memory of supervisor + workers (service_probe.py explains the figures).

Outputs are deleted after every frame and burst, then synced, so the disk does not fill
and each burst starts alike. Prints markdown tables with the goals of issue item 12.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import service_probe as probe  # noqa: E402
from bench_process import prepare, run_dataman  # noqa: E402

from dataman.core.pipeline import STEPS, process_frame  # noqa: E402
from dataman.ipc.slots import PREFIX, FrameBudget, instance_id  # noqa: E402
from dataman.sim.frames import DEFAULT_START, FrameSpec, write_raw_frame  # noqa: E402
from tests.service_harness import ServiceProcess  # noqa: E402

RAW_BYTES, OUT_BYTES = 52e6, 155e6  # a full frame, raw and processed (for the space check)
MIB = 2**20
VERDICT = {True: "**yes**", False: "**NO**"}


@dataclass
class Latency:
    seconds: float
    #: Where the time went (journal times and step timings), plus the "cpu" (user + sys)
    #: and minor page "faults" of the service's processes for this frame.
    parts: dict[str, float]


@dataclass
class Burst:
    frames: int
    wall: float  # first datagram to the last delivered file seen
    journal_wall: float  # first datagram to the journal's last delivered_at
    service_cpu: float  # user + sys of supervisor and workers
    bench_cpu: float  # this process (poll + memory probe): the measurement's own cost
    machine: dict[str, float]  # system-wide CPU split over the burst, percent
    peak: probe.Memory
    samples: int
    gaps: list[float]  # per worker: a job's end to its next job's start (journal)


@dataclass
class Outcome:
    workers: int
    idle: probe.Memory = field(default_factory=probe.Memory)
    latencies: list[Latency] = field(default_factory=list)
    bursts: list[Burst] = field(default_factory=list)  # in order: small, large, small, ...


def write_frames(data_dir: Path, first: int, count: int) -> list[Path]:
    """Full frames, MODS1B and MODS1R alternating, a minute apart (distinct UNIQNAMEs)."""
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


def latency_of(service: ServiceProcess, raw: Path, timeout: float = 60.0) -> Latency:
    repo = service.config.paths.repo_dir
    processes = probe.service_processes(service.process.pid)
    faults, cpu = probe.minor_faults(processes), probe.cpu_seconds(processes)
    sent = time.time()
    service.send(raw)
    while not delivered(repo, raw.name):
        if time.time() - sent > timeout:
            service.check_alive()
            raise TimeoutError(f"{raw.name} not delivered after {timeout:.0f} s")
        time.sleep(0.002)
    seen = time.time()
    service.wait_states([raw.name])
    return Latency(seen - sent, {**probe.journal_split(service.record(raw.name), sent, seen),
                                 "cpu": probe.cpu_seconds(processes) - cpu,
                                 "faults": probe.minor_faults(processes) - faults})


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


def measure_service(outcome: Outcome, data_dir: Path, latency_raws: list[Path],
                    bursts: list[list[Path]], core: CoreRunner) -> None:
    """One service with ``outcome.workers`` workers, from start to stop; adds to ``outcome``."""
    workers = outcome.workers
    service = ServiceProcess(paths={"dataDir": data_dir},
                             workers={"count": workers, "slots": workers + 1})
    try:
        service.start()
        prefix = f"{PREFIX}{instance_id(service.config.paths.state_dir)}-"
        outcome.idle.peak(probe.sample(service.process.pid, prefix, pss=True))
        warm(latency_raws)
        for raw in latency_raws:
            core.run_once()
            outcome.latencies.append(latency_of(service, raw))
            clean_outputs(service)
        for raws in bursts:
            warm(raws)
            outcome.bursts.append(burst_of(service, raws, prefix))
            clean_outputs(service)
        if service.stop() != 0:
            raise RuntimeError(f"dataman run did not stop cleanly:\n{service.stderr()}")
    finally:
        service.cleanup()
        shutil.rmtree(service.folder, ignore_errors=True)


class CoreRunner:
    """bench_process's ``process_frame`` run, on a full frame of its own, in this process."""

    def __init__(self, work: Path) -> None:
        bench = prepare(work)
        self.config, self.raw, self.buffers = bench.config, bench.raw, bench.buffers
        self.output_size = bench.output.stat().st_size
        bench.output.unlink()
        self.runs: list[dict[str, float]] = []
        self.bursts: list[tuple[int, float]] = []  # (frames, wall seconds)

    def burst(self, count: int) -> None:
        """``count`` frames back to back, outputs kept until the end as in a service burst."""
        warm([self.raw])
        start, results = time.perf_counter(), []
        logging.disable(logging.WARNING)  # "exists; written as <UNIQNAME>" after the first
        for _ in range(count):
            results.append(process_frame(self.raw, self.config, buffers=self.buffers))
        self.bursts.append((count, time.perf_counter() - start))
        logging.disable(logging.NOTSET)
        for path in [path for result in results for path in (result.processed, result.delivered)]:
            path.unlink()
        os.sync()

    def run_once(self) -> None:
        warm([self.raw])
        faults = probe.own_minor_faults()
        run = run_dataman(self.raw, self.config, self.buffers)
        self.runs.append({**run, "cpu": run["user"] + run["sys"],
                          "faults": probe.own_minor_faults() - faults})
        os.sync()


# --- report ---------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(runner: CoreRunner, outcomes: list[Outcome]) -> None:
    core, sizes = runner.runs, (runner.raw.stat().st_size, runner.output_size)
    core_median = median([run["total"] for run in core])
    load = " / ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"## dataMan service benchmark\n\n{psutil.cpu_count()} CPUs ({platform.machine()}), "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM, Python "
          f"{platform.python_version()}, load average {load} at the end; full frames (raw "
          f"{sizes[0] / 1e6:.1f} MB, output {sizes[1] / 1e6:.1f} MB to procDir and repoDir).\n"
          "Latency is measured on the client: datagram sent -> delivered file and "
          "<CHAN>.new seen (2 ms poll).\n")
    report_goals(core_median, outcomes, runner.bursts)
    report_latency(core, outcomes)
    report_bursts(outcomes, runner.bursts)
    report_memory(outcomes)


def report_goals(core_median: float, outcomes: list[Outcome],
                 core_bursts: list[tuple[int, float]]) -> None:
    print("### Goals\n\n| goal | measured | target | met |\n|---|---|---|---|")
    for outcome in outcomes:
        latency = median([item.seconds for item in outcome.latencies])
        ratio = latency / core_median
        print(f"| latency median, {outcome.workers} worker(s) | {latency:.3f} s = {ratio:.2f}"
              f" x single-process {core_median:.3f} s | <= 1.2 x | {VERDICT[ratio <= 1.2]} |")
    rates = {o.workers: throughput(o) for o in outcomes if o.bursts}
    if 1 in rates and 2 in rates:
        ratio = rates[2] / rates[1]
        print(f"| burst of {outcomes[-1].bursts[-1].frames}: throughput 2 workers / 1 worker "
              f"(median wall) | {rates[2]:.2f} / {rates[1]:.2f} frames/s = {ratio:.2f} x | "
              f">= 1.6 x on 2 cores ({psutil.cpu_count()} here) | {VERDICT[ratio >= 1.6]} |")
    if 1 in rates and core_bursts:
        alone = core_bursts[0][0] / median([wall for _, wall in core_bursts])
        print(f"| (context) same burst, 1 worker / process_frame in one process | {rates[1]:.2f}"
              f" / {alone:.2f} frames/s = {rates[1] / alone:.2f} x | - | - |")
    for outcome in outcomes:
        peaks = {}
        for burst in outcome.bursts:
            peaks.setdefault(burst.frames, probe.Memory()).peak(burst.peak)
        if len(peaks) < 2:
            continue
        (small, low), (large, high) = min(peaks.items()), max(peaks.items())
        ratio = high.footprint / low.footprint
        print(f"| peak footprint (anon + shm), burst {large} / burst {small}, "
              f"{outcome.workers} worker(s) | {high.footprint / MIB:.0f} / "
              f"{low.footprint / MIB:.0f} MiB = {ratio:.2f} (sum RSS {high.rss / MIB:.0f} / "
              f"{low.rss / MIB:.0f}) | <= 1.10 | {VERDICT[ratio <= 1.10]} |")


def throughput(outcome: Outcome) -> float:
    """Frames per second over the median wall time of the largest bursts."""
    size = max(burst.frames for burst in outcome.bursts)
    return size / median([burst.wall for burst in outcome.bursts if burst.frames == size])


def report_latency(core: list[dict[str, float]], outcomes: list[Outcome]) -> None:
    columns = [("core process_frame", core, [run["total"] for run in core])]
    columns += [(f"service, {o.workers} worker(s)", [item.parts for item in o.latencies],
                 [item.seconds for item in o.latencies]) for o in outcomes]
    core_median = median(columns[0][2])
    print("\n### Latency, full frames one at a time (seconds; then medians per frame)\n")
    print("| | " + " | ".join(name for name, _, _ in columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    rows = [("runs", lambda v: f"{len(v)}"), ("median", lambda v: f"{median(v):.3f}"),
            ("min", lambda v: f"{min(v):.3f}"), ("max", lambda v: f"{max(v):.3f}"),
            ("first (cold service)", lambda v: f"{v[0]:.3f}"),
            ("median / core median", lambda v: f"{median(v) / core_median:.2f}")]
    for label, cell in rows:
        print(f"| {label} | " + " | ".join(cell(values) for _, _, values in columns) + " |")
    for name in ["datagram->request", "request->dispatch", *STEPS, "rest", "cpu", "faults"]:
        cells = []
        for _, parts, _ in columns:
            values = [part.get(name) for part in parts]
            cells.append("-" if None in values else f"{median(values):.0f}" if name == "faults"
                         else f"{median(values) * 1e3:.1f}")
        label = {"cpu": "CPU ms (user + sys)", "faults": "minor page faults"}.get(name)
        print(f"| {label or name + ' ms'} | " + " | ".join(cells) + " |")
    print("\n'deliver' is the wait for the repoDir copy once procDir is written, plus "
          "<CHAN>.new; 'rest' = job message, slot attach and stat in the worker and the "
          "client's poll lag. Service CPU and faults: supervisor + workers, per frame.")


def report_bursts(outcomes: list[Outcome], core_bursts: list[tuple[int, float]]) -> None:
    print("\n### Bursts (all frames sent at once)\n")
    print("| workers | frames | wall s | frames/s | journal wall s | worker idle between jobs "
          "ms, median/max | service CPU s (% of wall x CPUs) | machine user/sys/iowait/idle % "
          "| bench CPU s | others CPU s |")
    print("|---" * 10 + "|")
    cpus = psutil.cpu_count()
    for frames, wall in core_bursts:
        print(f"| core, 1 process | {frames} | {wall:.2f} | {frames / wall:.2f} |" + " |" * 6)
    for outcome in outcomes:
        for burst in outcome.bursts:
            m, gaps = burst.machine, burst.gaps
            use = 100 * burst.service_cpu / (burst.wall * cpus)
            others = (m["user"] + m["sys"]) / 100 * burst.wall * cpus - burst.service_cpu \
                - burst.bench_cpu
            print(f"| {outcome.workers} | {burst.frames} | {burst.wall:.2f} | "
                  f"{burst.frames / burst.wall:.2f} | {burst.journal_wall:.2f} | "
                  f"{f'{median(gaps) * 1e3:.0f}/{max(gaps) * 1e3:.0f}' if gaps else '-'} | "
                  f"{burst.service_cpu:.1f} ({use:.0f} %) | {m['user']:.0f}/{m['sys']:.0f}/"
                  f"{m['iowait']:.0f}/{m['idle']:.0f} | {burst.bench_cpu:.1f} | {others:.1f} |")
    print("\nWall: first datagram to the last delivered file seen (core: first to last "
          "process_frame, outputs kept); journal wall: to the last delivered_at. Idle between "
          "jobs: a job's processed_at to the same worker's next started_at. others CPU = "
          "machine busy minus service and benchmark: other load, kernel threads (writeback).")


def report_memory(outcomes: list[Outcome]) -> None:
    rows = []
    for outcome in outcomes:
        rows.append((str(outcome.workers), "idle", outcome.idle, 1))
        rows += [(str(outcome.workers), str(burst.frames), burst.peak, burst.samples)
                 for burst in outcome.bursts]
    print("\n### Memory of supervisor + workers (MiB; peaks over each burst)\n")
    probe.print_memory_table(rows)


# --- main -----------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames-latency", type=int, default=8)
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--small-burst", type=int, default=5)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=2, help="services started per count")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 frames, bursts 2, 4")
    parser.add_argument("--dir", type=Path, default=Path("/tmp"),
                        help="parent of the work folder (short: socket paths are limited)")
    args = parser.parse_args()
    if args.quick:
        args.frames_latency, args.small_burst, args.burst, args.rounds = 2, 2, 4, 1
    return args


def main() -> None:
    args = parse_args()
    frames = args.frames_latency + args.small_burst + args.burst
    check_space(args.dir, frames, args.burst, max(args.workers) + 1)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="dmb") as work:
        data_dir = Path(work) / "data"
        core = CoreRunner(Path(work) / "core")
        latency_raws = write_frames(data_dir, 1, args.frames_latency)
        small = write_frames(data_dir, 101, args.small_burst)
        large = write_frames(data_dir, 201, args.burst)
        os.sync()  # the raw frames' writeback must not fall on the first measurements
        outcomes = {count: Outcome(count) for count in args.workers}
        for _ in range(args.rounds):  # alternated, so other load falls on all alike
            core.burst(args.burst)
            for outcome in outcomes.values():
                measure_service(outcome, data_dir, latency_raws, [small, large], core)
        report(core, list(outcomes.values()))
    print(f"\n(benchmark took {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
