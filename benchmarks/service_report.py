"""What bench_service.py measured, and the markdown tables it prints."""

from __future__ import annotations

import os
import platform
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import psutil
import service_probe as probe

from dataman.core.pipeline import STEPS

if TYPE_CHECKING:
    from bench_service import CoreRunner

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
class Commands:
    """Wall times (seconds) of ``dataman send`` and ``dataman health``, alone and in a flood."""

    send: list[float] = field(default_factory=list)
    health: list[float] = field(default_factory=list)
    flood_send: list[float] = field(default_factory=list)
    flood_health: list[float] = field(default_factory=list)
    flood_health_status: list[int] = field(default_factory=list)
    flood_took: list[float] = field(default_factory=list)
    #: The same commands alone, run by the checkout's editable script (for comparison).
    checkout_send: list[float] = field(default_factory=list)
    checkout_health: list[float] = field(default_factory=list)
    #: The interpreter importing the libraries the commands need, and nothing else.
    floor: list[float] = field(default_factory=list)


@dataclass
class Outcome:
    workers: int
    startup: list[float] = field(default_factory=list)  # launch -> UDP port bound
    ready: list[float] = field(default_factory=list)  # launch -> last worker's hello
    first: list[Latency] = field(default_factory=list)  # sent the moment the port is bound
    latencies: list[Latency] = field(default_factory=list)
    pairs: list[list[Latency]] = field(default_factory=list)
    replace_wait: list[float] = field(default_factory=list)  # kill -> replacements idle
    replaced: list[Latency] = field(default_factory=list)
    commands: Commands = field(default_factory=Commands)
    idle: probe.Memory = field(default_factory=probe.Memory)
    bursts: list[Burst] = field(default_factory=list)  # in order: small, large, small, ...

    @property
    def steady(self) -> float:
        return median([item.seconds for item in self.latencies])


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def seconds(values: list[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in values)


def report(runner: CoreRunner, outcomes: list[Outcome], load_before: tuple[float, ...],
           extra_slots: int, command_kind: str) -> None:
    core_median = median([run["total"] for run in runner.runs])
    load = " / ".join(f"{value:.2f}" for value in os.getloadavg())
    before = " / ".join(f"{value:.2f}" for value in load_before)
    print(f"## dataMan service benchmark\n\n{psutil.cpu_count()} CPUs ({platform.machine()}), "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM, Python "
          f"{platform.python_version()}; load average (1/5/15 min) {before} at the start, "
          f"{load} at the end. Full frames: raw {runner.raw.stat().st_size / 1e6:.1f} MB, "
          f"output {len(runner.output) / 1e6:.1f} MB to procDir and repoDir. Slots = workers"
          f" + {extra_slots}. Latency: "
          "datagram sent -> delivered file and <CHAN>.new seen (2 ms poll). Commands: "
          f"{command_kind} (benchmarks/installed.py says why).\n")
    report_goals(runner, core_median, outcomes)
    report_commands(outcomes)
    report_start(outcomes)
    report_latency(runner.runs, outcomes)
    report_bursts(outcomes, runner)
    report_memory(outcomes)


def report_goals(runner: CoreRunner, core: float, outcomes: list[Outcome]) -> None:
    print("### Goals\n\n| goal | workers | measured | target | met |\n"
          "|---|---|---|---|---|")
    core_pair = median(runner.pair.later if runner.pair else [])
    for o in outcomes:
        w, steady = o.workers, o.steady
        faults = [item.parts["faults"] for item in o.latencies]
        pair = [max(item.seconds for item in pair) for pair in o.pairs]
        first = median([item.seconds for item in o.first])
        replaced = median([item.seconds for item in o.replaced])
        rows = [
            ("steady latency / in-process process_frame", f"{steady:.3f} / {core:.3f} s = "
             f"{steady / core:.2f} x", "<= 1.1 x", steady / core <= 1.1),
            ("minor page faults per steady frame, median (max)",
             f"{median(faults):.0f} ({max(faults):.0f})", "< 1,000", max(faults) < 1000),
            ("first frame after `dataman run` (sent once the port is bound)",
             f"{first:.3f} s = {first / steady:.2f} x steady "
             f"({seconds([item.seconds for item in o.first])})",
             "<= 1.5 x", first / steady <= 1.5),
            ("first frame of a replaced worker", f"{replaced:.3f} s = {replaced / steady:.2f} x "
             f"steady ({seconds([i.seconds for i in o.replaced])})", "<= 1.5 x",
             replaced / steady <= 1.5),
            ("blue + red sent together: the later one", f"{median(pair):.3f} s = "
             f"{median(pair) / steady:.2f} x steady ({seconds(pair)}); "
             f"{median(pair) / core_pair:.2f} x the core pair", "<= 1.5 x",
             median(pair) / steady <= 1.5),
        ]
        for goal, measured, target, met in rows:
            print(f"| {goal} | {w} | {measured} | {target} | {VERDICT[met]} |")
    commands = Commands()
    for o in outcomes:
        for name in ("send", "health", "flood_send", "flood_health", "checkout_send",
                     "checkout_health", "floor"):
            getattr(commands, name).extend(getattr(o.commands, name))
    for label, values in (("`dataman send proc` wall", commands.send),
                          ("`dataman health` wall", commands.health),
                          ("`dataman send proc` wall during the flood", commands.flood_send),
                          ("`dataman health` wall during the flood", commands.flood_health)):
        print(f"| {label}, median (max) | all | {median(values):.3f} ({max(values):.3f}) s | "
              f"<= 0.1 s | {VERDICT[median(values) <= 0.1]} |")
    one, two = (median(runner.pair_floors.get(n, [float("nan")])) for n in (1, 2))
    print(f"| (floor: two frames' outputs written at once / one frame's, in-process) | all | "
          f"{two:.3f} / {one:.3f} s = {two / one:.2f} x | - | - |")
    later = runner.pair.later if runner.pair else []
    print(f"| (core pair: two process_frame started at once in two processes, the later "
          f"one) | all | {core_pair:.3f} s = {core_pair / core:.2f} x core ({seconds(later)})"
          " | - | - |")
    # Two workers overlap everything but the writes, which the machine does not speed up
    # when doubled: the later frame of a pair can be no sooner than this.
    print(f"| (bound for a pair: core + (two outputs - one output)) | all | "
          f"{core + two - one:.3f} s = {(core + two - one) / core:.2f} x core | - | - |")
    print(f"| (floor: `python -c 'import argparse, configobj, dataclasses, json, pathlib, "
          f"socket'`) | all | {median(commands.floor):.3f} ({max(commands.floor):.3f}) s | "
          "- | - |")
    for o in outcomes:
        small = [burst.wall for burst in o.bursts if burst.frames == o.bursts[0].frames]
        print(f"| burst of {o.bursts[0].frames} full frames, wall median | {o.workers} | "
              f"{median(small):.2f} s ({seconds(small)}) | near the I/O floor (bursts "
              "table) | - |")


def report_commands(outcomes: list[Outcome]) -> None:
    print("\n### Commands (wall seconds, interpreter start included; median / max)\n")
    print("| workers | send | health | flood: datagrams sent in s | send in flood | "
          "health in flood | health exit statuses in flood | checkout's send | "
          "checkout's health |\n|---|---|---|---|---|---|---|---|---|")
    for o in outcomes:
        c = o.commands
        statuses = {code: c.flood_health_status.count(code) for code in
                    sorted(set(c.flood_health_status))}
        print(f"| {o.workers} | " + " | ".join(
            f"{median(v):.3f} / {max(v):.3f}" if v else "-"
            for v in (c.send, c.health)) + f" | {seconds(c.flood_took)} | " + " | ".join(
            f"{median(v):.3f} / {max(v):.3f}" if v else "-"
            for v in (c.flood_send, c.flood_health)) + f" | {statuses} | " + " | ".join(
            f"{median(v):.3f} / {max(v):.3f}" if v else "-"
            for v in (c.checkout_send, c.checkout_health)) + " |")


def report_start(outcomes: list[Outcome]) -> None:
    print("\n### Start (seconds, per service started)\n")
    print("| workers | launch -> UDP port bound | launch -> last worker ready | first frame "
          "latency | kill -> replacements idle | replaced worker's first frame |\n"
          "|---|---|---|---|---|---|")
    for o in outcomes:
        print(f"| {o.workers} | {seconds(o.startup)} | {seconds(o.ready)} | "
              f"{seconds([i.seconds for i in o.first])} | {seconds(o.replace_wait)} | "
              f"{seconds([i.seconds for i in o.replaced])} |")


def report_latency(core: list[dict[str, float]], outcomes: list[Outcome]) -> None:
    columns = [("core process_frame", core, [run["total"] for run in core])]
    columns += [(f"service, {o.workers} worker(s)", [item.parts for item in o.latencies],
                 [item.seconds for item in o.latencies]) for o in outcomes]
    core_median = median(columns[0][2])
    print("\n### Steady latency, full frames one at a time (seconds; then medians per frame)\n")
    print("| | " + " | ".join(name for name, _, _ in columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    rows = [("runs", lambda v: f"{len(v)}"), ("median", lambda v: f"{median(v):.3f}"),
            ("min", lambda v: f"{min(v):.3f}"), ("max", lambda v: f"{max(v):.3f}"),
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


def report_bursts(outcomes: list[Outcome], runner: CoreRunner) -> None:
    print("\n### Bursts (all frames sent at once)\n")
    print("| workers | frames | wall s | frames/s | journal wall s | worker idle between jobs "
          "ms, median/max | service CPU s (% of wall x CPUs) | machine user/sys/iowait/idle % "
          "| bench CPU s | others CPU s |")
    print("|---" * 10 + "|")
    cpus = psutil.cpu_count()
    for label, runs in (("I/O floor", runner.floors), ("core, 1 process", runner.bursts)):
        for frames, wall in runs:
            print(f"| {label} | {frames} | {wall:.2f} | {frames / wall:.2f} |" + " |" * 6)
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
          "process_frame; I/O floor: the output written from memory to both folders at once, "
          "outputs kept); journal wall: to the last delivered_at. Idle between jobs: a job's "
          "processed_at to the same worker's next started_at. others CPU = machine busy "
          "minus service and benchmark: other load, kernel threads (writeback).")


def report_memory(outcomes: list[Outcome]) -> None:
    rows = []
    for outcome in outcomes:
        rows.append((str(outcome.workers), "idle", outcome.idle, 1))
        rows += [(str(outcome.workers), str(burst.frames), burst.peak, burst.samples)
                 for burst in outcome.bursts]
    print("\n### Memory of supervisor + workers (MiB; peaks over each burst)\n")
    probe.print_memory_table(rows)
