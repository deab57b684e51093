"""A live frame's latency during a catch-up and beside ``dataman process``, against steady.

Used by bench_service.py (``--catch-up``, ``--reprocess``, ``--live-frames``; or alone with
``--only-live-first``). One ``dataman run`` with 2 workers (``liveReserve`` 1), scanning
dataDir every second, on full frames of tonight (so the scan takes them), in three phases:

* steady - ``--live-frames`` live frames (MODS1B/MODS1R), one at a time, nothing else running;
* catch-up - ``--catch-up`` frames (MODS2B/MODS2R) moved into dataDir with no datagram, as
  after an outage: the scan finds them within a second. Once the first of them runs,
  ``--live-frames`` live frames one at a time, a second apart, each while the backlog is
  still being worked off (the table says how many were);
* reprocess - ``dataman process`` of ``--reprocess`` frames (MODS2B/MODS2R, outside dataDir)
  with the service's configuration, so it sees the service running (idle priority, one
  job); once its first output is written, ``--live-frames`` live frames as above.

Each live frame's latency is bench_service's: the datagram sent to the delivered file and
``<CHAN>.new`` naming it (2 ms poll). The ratio is a phase's median to the steady median of
the same service. Frames are moved into place with rename(2) from a staging folder on the
same disk (read once before, page cache warm), and each channel's frame numbers rise in the
order of sending, so ``<CHAN>.new`` is never asked to go backwards.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dataman.core.nightlog import observing_date
from dataman.sim.frames import FrameSpec, write_raw_frame
from tests.service_harness import ServiceProcess, wait_until

UTC_OFFSET = 7.0  # the configuration's default utcOffset: tonight's observing date
SPACING = 1.0  # seconds between live frames during a phase (the backlog's load builds up)


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    #: Live frames delivered while the background work (catch-up or reprocess) still ran.
    inside: int = 0
    wall: float = 0.0  # the background work, from its start to its last frame
    note: str = ""


def stage_frames(stage: Path, instruments: tuple[str, str], first: int, count: int,
                 night: str) -> list[Path]:
    """Full frames of ``night``, the two instruments alternating, numbers from ``first``."""
    paths = []
    begin = datetime.now(UTC) - timedelta(hours=1)
    for number in range(first, first + count):
        instrument = instruments[number % 2]
        spec = FrameSpec(instrument=instrument, roi="full", binning=1, night=night,
                         number=number, start=begin + timedelta(seconds=10 * number))
        paths.append(write_raw_frame(stage / instrument.lower(), spec))
    return paths


def move_in(raw: Path, data_dir: Path) -> Path:
    """Into ``<dataDir>/<chan>/`` by rename(2): the file appears there whole, at once."""
    target = data_dir / raw.parent.name / raw.name
    target.parent.mkdir(parents=True, exist_ok=True)
    raw.rename(target)
    return target


def live_latency(service: ServiceProcess, raw: Path, timeout: float = 120.0) -> float:
    """Move ``raw`` into dataDir, send its datagram; seconds until it is delivered."""
    repo = service.config.paths.repo_dir
    path = move_in(raw, service.config.paths.data_dir)
    new = repo / f"{raw.name.split('.')[0].upper()}.new"
    sent = time.time()
    service.send(path)
    while not ((repo / raw.name).exists() and new.exists()
               and new.read_text().strip() == raw.name):
        if time.time() - sent > timeout:
            service.check_alive()
            raise TimeoutError(f"{raw.name} not delivered after {timeout:.0f} s")
        time.sleep(0.002)
    return time.time() - sent


def steady(service: ServiceProcess, live: list[Path]) -> Phase:
    phase = Phase("steady")
    for raw in live:
        phase.latencies.append(live_latency(service, raw))
        time.sleep(SPACING / 2)
    return phase


def catch_up(service: ServiceProcess, backlog: list[Path], live: list[Path]) -> Phase:
    """Drop ``backlog`` into dataDir without datagrams; live frames while it is worked off."""
    phase, names = Phase("catch-up"), [raw.name for raw in backlog]
    begun = time.time()
    for raw in backlog:
        move_in(raw, service.config.paths.data_dir)
    wait_until(lambda: any(state != "queued" for state in _states(service, names).values()),
               60, what="the scan's first catch-up frame started", interval=0.01)
    for raw in live:
        time.sleep(SPACING)
        phase.latencies.append(live_latency(service, raw))
        phase.inside += not _all_delivered(service, names)
    wait_until(lambda: _all_delivered(service, names), 60 + 30 * len(names),
               what="the catch-up delivered", interval=0.1)
    phase.wall = time.time() - begun
    return phase


def reprocess(service: ServiceProcess, frames: list[Path], live: list[Path]) -> Phase:
    """``dataman process`` of ``frames`` beside the service; live frames while it runs."""
    phase = Phase("reprocess")
    night_folder = service.config.paths.proc_dir / frames[0].name.split(".")[1]
    before = set(night_folder.glob("mods2*.fits"))
    begun = time.time()
    command = subprocess.Popen(
        [sys.executable, "-m", "dataman", "process", "-c", str(service.config_path),
         *map(str, frames)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: command.poll() is not None
                   or bool(set(night_folder.glob("mods2*.fits")) - before),
                   120, what="dataman process's first output", interval=0.01)
        for raw in live:
            time.sleep(SPACING)
            phase.latencies.append(live_latency(service, raw))
            phase.inside += command.poll() is None
        _, stderr = command.communicate(timeout=60 + 30 * len(frames))
    finally:
        if command.poll() is None:
            command.kill()
            command.wait()
    phase.wall = time.time() - begun
    phase.note = next((line.removeprefix("dataman process: ") for line in stderr.splitlines()
                       if "service is running" in line), "(no notice of the service)")
    if command.returncode != 0:
        raise RuntimeError(f"dataman process exited with {command.returncode}:\n{stderr}")
    return phase


def _states(service: ServiceProcess, names: list[str]) -> dict[str, str]:
    states = service.states()
    return {name: states.get(name, "unknown") for name in names}


def _all_delivered(service: ServiceProcess, names: list[str]) -> bool:
    return all(state == "delivered" for state in _states(service, names).values())


def clean(service: ServiceProcess) -> None:
    paths = service.config.paths
    for path in [*paths.repo_dir.glob("*.fits"), *paths.proc_dir.glob("*/*.fits")]:
        path.unlink()
    os.sync()


def measure(work: Path, live_frames: int, backlog: int, reprocessed: int) -> list[Phase]:
    """The three phases in one service; frames written in ``work`` first."""
    night = observing_date(datetime.now(UTC), UTC_OFFSET)
    stage = work / "stage"
    live = stage_frames(stage, ("MODS1B", "MODS1R"), 1, 3 * live_frames, night)
    behind = stage_frames(stage, ("MODS2B", "MODS2R"), 100, backlog, night)
    again = stage_frames(stage / "again", ("MODS2B", "MODS2R"), 500, reprocessed, night)
    for path in [*live, *behind, *again]:
        path.read_bytes()  # page cache warm, as the raw frames of bench_service
    os.sync()
    service = ServiceProcess(paths={"dataDir": work / "data"},
                             workers={"count": 2, "slots": 2, "liveReserve": 1, "slotSize": "full"},
                             service={"scanInterval": 1})
    try:
        service.start()
        phases = [steady(service, live[:live_frames])]
        clean(service)
        phases.append(catch_up(service, behind, live[live_frames:2 * live_frames]))
        clean(service)
        phases.append(reprocess(service, again, live[2 * live_frames:]))
        clean(service)
        if service.stop() != 0:
            raise RuntimeError(f"dataman run did not stop cleanly:\n{service.stderr()}")
    finally:
        service.cleanup()
        shutil.rmtree(service.folder, ignore_errors=True)  # its folder under /tmp
    return phases


def print_table(phases: list[Phase], backlog: int, reprocessed: int) -> None:
    base = statistics.median(phases[0].latencies)
    print("\n### Live frames during a catch-up and beside `dataman process`\n")
    print("| phase | live frames (s) | median (s) | ratio to steady | live frames inside "
          "| background wall (s) |")
    print("|---|---|---|---|---|---|")
    what = {"steady": "steady", "catch-up": f"catch-up of {backlog} full frames",
            "reprocess": f"`dataman process` of {reprocessed} full frames"}
    for phase in phases:
        median = statistics.median(phase.latencies)
        inside = "" if phase.name == "steady" else f"{phase.inside} of {len(phase.latencies)}"
        wall = f"{phase.wall:.1f}" if phase.wall else ""
        print(f"| {what[phase.name]} | {' '.join(f'{v:.2f}' for v in phase.latencies)} | "
              f"{median:.2f} | {median / base:.2f}x | {inside} | {wall} |")
    print("\n2 workers, liveReserve 1; goal: at most 1.5x. \"inside\": delivered while the "
          "background work still ran. dataman process said: " + phases[-1].note)
