"""A whole observing night replayed against the real service, with the faults a night combines.

Both channels of one MODS send calibrations and science frames of mixed ROI
and binning at a compressed cadence, while the catch-up scan finds last
night's frames on disk; the staging disk vanishes and turns read-only while
full frames are being written into it; a worker and the supervisor are killed;
a request is repeated and a frame is corrupt; a backlog found by the scan is
worked off while live frames arrive (their latency is reported beside the
steady one); procDir's file system fills and grows back; a power cut kills
everything and leaves the newest outputs empty; consoles are attached
throughout and one more is started after every fault. Next morning ``dataman process``
runs over the whole night, once plainly and once with ``--force``.

``NightPlan`` sets the size: the test suite replays a compressed night, the
benchmark tooling (``benchmarks/night_replay.py``) a longer one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from statistics import median

from dataman.core.nightlog import observing_date
from dataman.service.summary import night_window
from dataman.sim.frames import FrameSpec, write_raw_frame
from tests.night.consoles import Consoles
from tests.night.invariants import NightAccount, account_night, journal_rows
from tests.reliability.conftest import send_held_at_step
from tests.service_harness import ServiceProcess, dataman_health, wait_until

#: (kind, OBJECT or None for the kind's own title, ROI, binning) of a night's frames, in order;
#: the simulator gives each kind the MODS keyword set, IMAGETYP and exposure time it has.
CALIBRATIONS = [("bias", None, "1kx1k", 2), ("bias", None, "3kx3k", 2),
                ("flat", None, "4kx3k", 2), ("comp", None, "1kx1k", 1)]
SCIENCE = [("object", "SN 2025abc", "3kx3k", 2), ("object", "SN 2025abc", "1kx1k", 1),
           ("object", "NGC 2392", "4kx3k", 2), ("object", "Feige 34", "1kx1k", 2)]
CHANNELS = ("MODS1B", "MODS1R")
#: procDir's own file system (a tmpfs where mounts are allowed), shrunk to full and grown back.
PROC_DIR_SIZE = "8g"


def fmt_seconds(values: list[float]) -> str:
    return ", ".join(f"{value:.2f} s" for value in values)


@dataclass
class NightPlan:
    rounds: int = 1             # how often the calibration + science sequence repeats
    last_night_frames: int = 3  # per channel, on disk before the start: only the scan finds them
    cadence: float = 0.05       # seconds between datagrams
    outage: float = 2.0         # seconds the staging disk stays away
    catch_up_frames: int = 12   # tonight's frames found by the scan alone, as after an outage


@dataclass
class Event:
    what: str
    detail: str


@dataclass
class NightReplay:
    service: ServiceProcess
    plan: NightPlan = field(default_factory=NightPlan)
    mounts: object | None = None  # tests.reliability.mounts.Mounts, None: no read-only case
    events: list[Event] = field(default_factory=list)
    requested: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        offset = self.service.config.site.utc_offset
        now = datetime.now(UTC)
        self.tonight = observing_date(now, offset)
        self.last_night = observing_date(now - timedelta(days=1), offset)
        self.numbers = {channel: count(1) for channel in CHANNELS}
        self.consoles = Consoles(self.service.folder / "tmux.sock", self.service.config_path)

    # --- frames -------------------------------------------------------------------------

    def frame(self, channel: str, kind: tuple, *, night: str | None = None,
              full: bool = False, aside: bool = False) -> Path:
        """Write the channel's next raw frame into dataDir, whole: it is written aside
        and moved into place, so the scan cannot take it before its datagram is sent."""
        kind_name, title, roi, binning = kind
        number = next(self.numbers[channel]) if night is None else \
            len([n for n in self.requested if n.startswith(channel.lower() + "." + night)]) + 1
        spec = FrameSpec(instrument=channel, night=night or self.tonight, number=number,
                         seed=number, roi="full" if full else roi,
                         binning=1 if full else binning, kind=kind_name,
                         start=datetime.now(UTC).replace(microsecond=0),
                         primary={"OBJECT": title} if title else {})
        data_dir = self.service.config.paths.data_dir
        written = write_raw_frame(data_dir / "incoming", spec)
        self.requested.append(written.name)
        return written if aside else self.place(written)

    def place(self, written: Path) -> Path:
        """Move a frame written aside into its channel folder (one rename: it appears whole)."""
        path = self.service.config.paths.data_dir / written.name[:6] / written.name
        path.parent.mkdir(exist_ok=True)
        written.rename(path)
        return path

    def send(self, *paths: Path) -> None:
        for path in paths:
            self.service.send(path)
            time.sleep(self.plan.cadence)  # the camera's cadence, compressed

    def note(self, what: str, detail: str = "") -> None:
        self.events.append(Event(what, detail))

    # --- the night ----------------------------------------------------------------------

    def run(self) -> None:
        for step in self.steps():
            step()

    def steps(self) -> Iterator:
        yield self.last_night_on_disk
        yield self.start
        for _ in range(self.plan.rounds):
            yield self.calibrations
            yield self.repeated_request
            yield self.corrupt_frame
            yield self.staging_vanishes_mid_write
            yield self.science
            yield self.staging_read_only_mid_write
            yield self.worker_killed
            yield self.supervisor_killed
            yield self.catch_up_with_live_frames
            yield self.proc_dir_fills
            yield self.power_cut
        yield self.settle

    def last_night_on_disk(self) -> None:
        for channel in CHANNELS:
            for index in range(self.plan.last_night_frames):
                self.frame(channel, SCIENCE[index % len(SCIENCE)], night=self.last_night)
        self.note("last night's frames on disk", f"{2 * self.plan.last_night_frames} frames "
                  f"of {self.last_night}, no datagram")

    def start(self) -> None:
        if self.mounts is not None:  # procDir on a file system of its own, to fill later
            self.mounts.tmpfs(self.service.config.paths.proc_dir, PROC_DIR_SIZE)
        self.service.start()
        self.consoles.start()

    def calibrations(self) -> None:
        for kind in CALIBRATIONS:
            self.send(*(self.frame(channel, kind) for channel in CHANNELS))

    def repeated_request(self) -> None:
        first = next(name for name in self.requested if self.tonight in name)
        path = self.service.config.paths.data_dir / first[:6] / first
        self.send(path, path)
        self.note("repeated request", f"{first} twice more")

    def corrupt_frame(self) -> None:
        path = self.frame("MODS1B", CALIBRATIONS[0])
        path.write_bytes(path.read_bytes()[:20000])
        self.corrupt.append(path.name)
        self.send(path)
        self.note("corrupt frame", path.name)

    def staging_vanishes_mid_write(self) -> None:
        repo = self.service.config.paths.repo_dir
        away = repo.with_name(repo.name + "-unmounted")

        def vanish() -> None:
            repo.rename(away)

        self._outage_mid_write("staging disk vanished", vanish, lambda: away.rename(repo))

    def staging_read_only_mid_write(self) -> None:
        if self.mounts is None:
            self.note("staging disk read-only", "not run: no mounts here")
            return
        repo = self.service.config.paths.repo_dir
        self._outage_mid_write("staging disk read-only", lambda: self.mounts.read_only(repo),
                               lambda: self.mounts.release(repo))

    def _outage_mid_write(self, what: str, fail, repair) -> None:
        """A full blue and red frame; both workers are held once their copies into repoDir
        are open while the disk goes, then let go; the disk returns after ``plan.outage``
        seconds. (Both: a copy opened between the two steps of a read-only bind mount
        would make the remount busy.)"""
        written = [self.frame(channel, SCIENCE[0], full=True, aside=True)
                   for channel in CHANNELS]
        blue, red = (self.place(path) for path in written)
        point = f"temporary.{self.service.config.paths.repo_dir.name}"
        for path in (blue, red):
            self.service.hold(path.name, point)
        self.send(blue, red)
        held = [self.service.wait_held(path.name, point) for path in (blue, red)]
        pid = held[0]
        try:
            fail()
        finally:
            for worker in held:
                self.service.release(worker)
        self.service.wait_states([blue.name], "processed", timeout=60)
        time.sleep(self.plan.outage)  # the length of the outage is the scenario's
        repair()
        self.service.wait_states([blue.name, red.name], "delivered", timeout=120)
        self.note(what, f"{blue.name} held mid-write (pid {pid}), disk away "
                  f"{self.plan.outage:.0f} s")
        self.consoles.start()

    def science(self) -> None:
        for kind in SCIENCE:
            self.send(*(self.frame(channel, kind) for channel in CHANNELS))

    def worker_killed(self) -> None:
        # The worker holds itself at the start of the OTM (a test hold): it is caught
        # there however fast the machine is.
        path = self.place(self.frame("MODS1R", SCIENCE[2], full=True, aside=True))
        pid, step = send_held_at_step(self.service, path, "otm")
        os.kill(pid, signal.SIGKILL)
        self.note("worker kill -9", f"pid {pid} in {step} on {path.name}")
        self.service.wait_states([path.name], "delivered")
        self.consoles.start()

    def supervisor_killed(self) -> None:
        burst = [self.frame("MODS1B", SCIENCE[index % 4]) for index in range(6)]
        for path in burst:
            self.service.send(path)
        self.service.wait_states([burst[0].name])
        states = self.service.states()
        waiting = [p.name for p in burst if states.get(p.name) in ("queued", "running")]
        self.service.kill()
        self.service.start()
        self.note("supervisor kill -9", f"with {len(waiting)} of the burst not yet delivered")
        self.consoles.start()

    def catch_up_with_live_frames(self) -> None:
        """Frames of tonight found by the scan alone (as after an outage), and live requests
        while they are worked off: the live frames' latency beside the steady one."""
        backlog = [self.frame(CHANNELS[index % 2], SCIENCE[index % 4], aside=True)
                   for index in range(self.plan.catch_up_frames)]
        for path in backlog:
            self.place(path)
        wait_until(lambda: all(p.name in self.service.states() for p in backlog), 60,
                   what="the scan to find the catch-up frames", interval=0.1)
        live = []
        for channel in CHANNELS:
            path = self.frame(channel, SCIENCE[1])
            states = self.service.states()
            behind = sum(states.get(p.name) in ("queued", "running") for p in backlog)
            self.send(path)
            live.append((path.name, behind))
        self.service.wait_states([name for name, _ in live] + [p.name for p in backlog],
                                 timeout=180)
        rows = journal_rows(self.service.config.paths.state_dir)
        during = [rows[name]["delivered_at"] - rows[name]["requested_at"] for name, _ in live]
        steady = [row["delivered_at"] - row["requested_at"] for row in rows.values()
                  if row["source"] == "datagram" and row["delivered_at"] and row["roi"] ==
                  "1kx1k" and row["binning"] == "1x1" and row["name"] not in dict(live)]
        steady_median = median(steady) if steady else float("nan")
        self.note("catch-up with live frames", f"{len(backlog)} frames found by the scan; "
                  f"live frames sent with {', '.join(str(b) for _, b in live)} catch-up "
                  f"frames not yet done took {fmt_seconds(during)} against a steady "
                  f"{steady_median:.2f} s (median of {len(steady)})")
        self.consoles.start()

    def proc_dir_fills(self) -> None:
        """procDir's file system fills up while a full blue + red pair is processed; the
        pair waits (health says why) and is delivered once it grows back."""
        if self.mounts is None:
            self.note("procDir full", "not run: no mounts here")
            return
        proc = self.service.config.paths.proc_dir
        used = os.statvfs(proc).f_blocks - os.statvfs(proc).f_bfree
        self.mounts.resize(proc, f"{(used * os.statvfs(proc).f_frsize >> 20) + 2}m")
        pair = [self.frame(channel, SCIENCE[0], full=True) for channel in CHANNELS]
        self.send(*pair)
        health = wait_until(lambda: "processing stalled" in (
            line := dataman_health(self.service.config_path)[0].stdout) and line, 60,
            what="health to say processing stalled", interval=0.2)
        self.mounts.resize(proc, PROC_DIR_SIZE)
        self.service.wait_states([path.name for path in pair], timeout=120)
        said = health[health.index("processing stalled"):].strip()
        self.note("procDir full", f"health: {health.split()[1]} ... {said}; both frames "
                  "delivered once it grew back")
        self.consoles.start()

    def power_cut(self) -> None:
        """The service and its workers killed at once, the newest two outputs left empty (as
        a power cut leaves new files on ext4); the restart redoes exactly those first."""
        rows = sorted((row for row in journal_rows(self.service.config.paths.state_dir)
                       .values() if row["state"] == "delivered"),
                      key=lambda row: row["delivered_at"])[-2:]
        assert self.service.process is not None
        os.killpg(self.service.process.pid, signal.SIGKILL)
        self.service.process.wait(10)
        for row in rows:
            for path in (row["processed_path"], row["delivered_path"]):
                os.truncate(path, 0)
        self.service.start()
        log = self.service.log_text()
        redone = [row["name"] for row in rows
                  if f"{row['name']}: redone under the same names" in log]
        assert redone == [row["name"] for row in rows], log[-3000:]
        self.note("power cut", f"outputs of {', '.join(redone)} emptied; redone at restart")
        self.consoles.start()

    def settle(self, timeout: float = 180.0) -> None:
        def settled() -> bool:
            self.service.check_alive()
            states = self.service.states()
            return all(states.get(name) in ("delivered", "failed") for name in self.requested)
        wait_until(settled, timeout, what=f"{len(self.requested)} frames to settle",
                   interval=0.2)

    # --- the checks -----------------------------------------------------------------------

    def health_against_journal(self) -> tuple[str, dict[str, int]]:
        """The health line, and the journal's counts over the same night."""
        run, _ = dataman_health(self.service.config_path)
        start, end = night_window(self.tonight, self.service.config.site.utc_offset)
        counts = {"delivered": 0, "failed": 0, "queued": 0}
        for row in journal_rows(self.service.config.paths.state_dir).values():
            if start <= row["requested_at"] < end and row["state"] in counts:
                counts[row["state"]] += 1
        return run.stdout.strip(), counts

    def console_problems(self) -> list[str]:
        problems = self.consoles.dead()
        for name in self.consoles.sessions:
            try:
                wait_until(lambda n=name: self.consoles.attached(n), 30,
                           what=f"{name} attached", interval=0.2)
            except AssertionError:
                problems.append(f"{name} not attached:\n{self.consoles.screen(name)}")
        return problems

    def morning(self, *extra: str) -> subprocess.CompletedProcess[str]:
        """``dataman process`` over every raw frame of the two nights."""
        data = self.service.config.paths.data_dir
        files = sorted(str(p) for night in (self.last_night, self.tonight)
                       for p in data.glob(f"mods*/mods*.{night}.*.fits"))
        return subprocess.run([sys.executable, "-m", "dataman", "process", *extra, *files,
                               "-c", str(self.service.config_path)],
                              capture_output=True, text=True, check=False, timeout=600)

    def account(self) -> NightAccount:
        return account_night(self.service.config.paths, self.requested)

    def close(self) -> None:
        self.consoles.close()


def table(account: NightAccount, consoles: int, consoles_dead: int) -> str:
    """The night's table, as the closing note carries it."""
    rows = [("frames requested", len(account.requested)),
            ("delivered", len(account.delivered)), ("failed (with reason)", len(account.failed)),
            ("lost", len(account.lost)), ("duplicates", len(account.duplicates)),
            ("leftovers (hidden/temporary/partial)", len(account.leftovers) +
             len(account.partial)),
            ("UNIQNAMEs distinct", "yes" if account.uniqnames_distinct else "NO"),
            (".new correct", "yes" if account.last_data_correct else "NO"),
            ("console restarts survived", f"{consoles - consoles_dead} of {consoles}")]
    return "\n".join(f"| {label} | {value} |" for label, value in rows)

