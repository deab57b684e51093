"""What a running service costs and where its time goes: memory, CPU, faults, journal times.

The service is its supervisor and every process under it (workers and their helpers).
Memory comes in several figures, because shared-memory slots make "the memory of the
service" ambiguous:

* ``rss``  - sum of VmRSS, what ``top`` shows added up. A slot page counts once in every
  process that has it mapped (a worker maps its job's slot; the supervisor creates the
  slots but never touches their pages), and shared libraries count in every process.
* ``anon`` - sum of RssAnon (``/proc/PID/status``): heaps and stacks. Workers are started
  with exec, not forked, so no anonymous page is shared and this sum is honest.
* ``shm``  - resident bytes of the service's ``/dev/shm`` slots (tmpfs pages, each counted
  once, mapped or not). Once every slot has been used it is fixed by ``[workers] slots``.
* ``footprint = anon + shm`` - what the service holds beyond shared code and page cache;
  the figure to compare between burst sizes.
* ``pss``  - sum of PSS (psutil ``memory_full_info``, from ``/proc/PID/smaps_rollup``):
  every shared page divided among the processes mapping it, so nothing is counted twice,
  but a slot nobody maps at that instant is missing. Reading it walks the page tables
  (milliseconds per process), so it is sampled only every ``pss_every``-th time.

Page cache (the raw frames read, the outputs written) is in none of them.
"""

from __future__ import annotations

import itertools
import json
import resource
import subprocess
import threading
import time
from dataclasses import dataclass, fields
from pathlib import Path

import psutil

SHM = Path("/dev/shm")


@dataclass
class Memory:
    """Bytes; as a sample, or as the peak of each figure over many samples."""

    rss: int = 0
    anon: int = 0
    shm: int = 0
    footprint: int = 0
    pss: int = 0

    def peak(self, other: Memory) -> None:
        for item in fields(self):
            setattr(self, item.name, max(getattr(self, item.name), getattr(other, item.name)))


def rss_anon(pid: int) -> int:
    """RssAnon of a process in bytes (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def shm_resident(prefix: str) -> int:
    """Resident bytes of the ``/dev/shm`` segments whose names start with ``prefix``."""
    total = 0
    for path in SHM.glob(f"{prefix}*"):
        try:
            total += path.stat().st_blocks * 512
        except OSError:
            continue
    return total


def service_processes(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def sample(pid: int, shm_prefix: str, *, pss: bool = False) -> Memory:
    """One look at the process tree under ``pid`` and the service's slots."""
    memory = Memory(shm=shm_resident(shm_prefix))
    for process in service_processes(pid):
        try:
            memory.rss += process.memory_info().rss
            memory.anon += rss_anon(process.pid)
            if pss:
                memory.pss += process.memory_full_info().pss
        except psutil.Error:  # a process that just exited
            continue
    memory.footprint = memory.anon + memory.shm
    return memory


class MemoryProbe:
    """``with MemoryProbe(pid, prefix) as probe: ...``; then ``probe.peak``, ``probe.samples``."""

    def __init__(self, pid: int, shm_prefix: str, *, interval: float = 0.02,
                 pss_every: int = 5) -> None:
        self.pid, self.shm_prefix = pid, shm_prefix
        self.interval, self.pss_every = interval, pss_every
        self.peak, self.samples = Memory(), 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-probe", daemon=True)

    def __enter__(self) -> MemoryProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._take()  # the end state too

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._take()

    def _take(self) -> None:
        pss = self.samples % self.pss_every == 0
        self.peak.peak(sample(self.pid, self.shm_prefix, pss=pss))
        self.samples += 1


def print_memory_table(rows: list[tuple[str, str, Memory, int]]) -> None:
    """A markdown table: (workers, frames or 'idle', memory, samples) per row, in MiB."""
    print("| workers | frames | sum RSS | sum anon | shm | footprint | sum PSS | samples |")
    print("|---" * 8 + "|")
    for workers, frames, memory, samples in rows:
        values = (memory.rss, memory.anon, memory.shm, memory.footprint, memory.pss)
        print(f"| {workers} | {frames} | " + " | ".join(f"{value / 2**20:.0f}" for value in values)
              + f" | {samples} |")
    print("\nsum RSS counts a slot page in every process mapping it; anon = private heaps; "
          "shm = resident slot pages, once; footprint = anon + shm; PSS every 5th sample "
          "(samples 20 ms apart). Page cache is in none of them (benchmarks/service_probe.py).")


# --- CPU and page faults --------------------------------------------------------------------


def cpu_seconds(processes: list[psutil.Process]) -> float:
    """User + system CPU time of these processes so far (an exited one counts 0)."""
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def own_minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def minor_faults(processes: list[psutil.Process]) -> int:
    """Minor page faults of these processes so far (``minflt`` of ``/proc/PID/stat``)."""
    total = 0
    for process in processes:
        try:
            with open(f"/proc/{process.pid}/stat") as stat:
                total += int(stat.read().rsplit(")", 1)[1].split()[7])
        except (OSError, IndexError, ValueError):
            continue
    return total


def cpu_split(before: tuple, after: tuple) -> dict[str, float]:
    """Percent of all CPUs' time between two ``psutil.cpu_times()``: user, sys, iowait, idle."""
    delta = {name: getattr(after, name) - getattr(before, name) for name in before._fields}
    total = sum(value for name, value in delta.items() if name not in ("guest", "guest_nice"))

    def part(*names: str) -> float:
        return 100 * sum(delta.get(name, 0.0) for name in names) / total if total else 0.0

    return {"user": part("user", "nice"), "sys": part("system", "irq", "softirq"),
            "iowait": part("iowait"), "idle": part("idle"), "steal": part("steal")}


# --- the journal's times --------------------------------------------------------------------


def journal_split(record: dict, sent: float, seen: float) -> dict[str, float]:
    """A frame's latency in parts: datagram to journal, to dispatch, the worker's steps, rest.

    The rest is the job message, slot attach and stat in the worker, and the poll's lag.
    """
    split = {"datagram->request": record["requested_at"] - sent,
             "request->dispatch": record["started_at"] - record["requested_at"],
             **json.loads(record["timings"])}
    # The thumbnail is made after <CHAN>.new, outside the latency measured here.
    split["rest"] = (seen - sent) - sum(value for step, value in split.items()
                                        if step != "thumbnail")
    return split


def dispatch_gaps(records: list[dict]) -> list[float]:
    """Per worker, from a job's result (``processed_at``) to its next job (``started_at``).

    The worker is idle meanwhile: the supervisor records the result (journal commits)
    and picks the next frame.
    """
    by_worker: dict[int, list[dict]] = {}
    for record in sorted(records, key=lambda record: record["started_at"]):
        by_worker.setdefault(record["pid"], []).append(record)
    return [after["started_at"] - before["processed_at"] for jobs in by_worker.values()
            for before, after in itertools.pairwise(jobs)]


# --- start-up and commands ------------------------------------------------------------------


def udp_bound(port: int) -> bool:
    """Whether some socket of this host is bound to UDP ``port`` (``/proc/net/udp[6]``)."""
    suffix = f":{port:04X}"
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table) as lines:
                next(lines)  # the column titles
                if any(line.split()[1].endswith(suffix) for line in lines):
                    return True
        except (OSError, StopIteration, IndexError):
            continue
    return False


def command_wall(argv: list[str]) -> tuple[float, int]:
    """Wall time of a command run to its end (interpreter start included), and its status.

    The wait blocks in waitpid(2): ``subprocess.run(timeout=...)`` would poll with sleeps
    growing to 50 ms, and every wall time would come out rounded up to 64, 114, 164 ms...
    A watchdog thread kills a command that hangs for a minute instead.
    """
    begun = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watchdog = threading.Timer(60, child.kill)
    watchdog.start()
    try:
        status = child.wait()
    finally:
        watchdog.cancel()
    return time.perf_counter() - begun, status
