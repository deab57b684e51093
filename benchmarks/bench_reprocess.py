"""Reprocess 40 full MODS frames with ``dataman process``: 1 and 2 local workers, a Dask cluster.

    .venv/bin/python benchmarks/bench_reprocess.py [--frames 40] [--dir /path/on/the/target/disk]

Each contender is the real command, run as a subprocess on a folder of full
frames (51.7 MB raw, 154 MB out, written twice: procDir and repoDir):

* ``--jobs 1`` and ``--jobs 2``: worker processes of this machine;
* ``dask``: ``--scheduler`` to a ``LocalCluster`` of 2 worker processes (1 thread each)
  started by this script before the clock starts;
* ``io-floor``: copying a file of the output's size to procDir and repoDir once per
  frame, in 1 stream (for ``--jobs 1``) or 2 (the others), measured right before each
  contender: what the disk allows at best at that moment.

Reported per contender: frames/s over the processing itself (the command's own
summary line, from its first frame to its last), frames/s over the whole command
(interpreter start, imports, workers started), the ratio of its processing time
to its I/O floor, and the peak memory (PSS, so pages shared
between processes count once) of every process taking part. Outputs are deleted
between contenders; the raw frames stay in the page cache, as a night just read
would be. The frames are one simulated frame copied under 40 names (the
simulator takes seconds per full frame).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dataman.core.config import Config, load_config  # noqa: E402
from dataman.sim.frames import FrameSpec, raw_name, write_raw_frame  # noqa: E402

NIGHT = "20251230"
SPEED = re.compile(r"(\d+) frames written in ([0-9.]+) s: ([0-9.]+) frames/s")


def write_config(folder: Path) -> Config:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataman.ini").write_text(
        "[paths]\ndataDir = data\nprocDir = proc\nrepoDir = newdata\nlogDir = log\n"
        "stateDir = state\nmakeDirs = True\n[server]\nhostid = bench\n")
    return load_config(folder / "dataman.ini")


def make_frames(config: Config, count: int) -> Path:
    """``count`` full frames in ``<dataDir>/mods1b``: one simulated, the rest copies of it
    whose FILENAME card is changed to their own name."""
    folder = config.paths.data_dir / "mods1b"
    first = write_raw_frame(folder, FrameSpec(roi="full", binning=1, night=NIGHT, number=1))
    data = first.read_bytes()
    for number in range(2, count + 1):
        name = raw_name("MODS1B", NIGHT, number)
        (folder / name).write_bytes(data.replace(first.name.encode(), name.encode(), 1))
    return folder


class PeakMemory:
    """Peak of the summed PSS of some processes, sampled every 50 ms in a thread."""

    def __init__(self, processes: Callable[[], Iterable[psutil.Process]]) -> None:
        self._processes, self.peak = processes, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            total = 0
            for process in self._processes():
                try:
                    total += process.memory_full_info().pss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)


def tree(root: psutil.Process) -> list[psutil.Process]:
    try:
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


@dataclass
class Result:
    name: str
    frames: int
    processing: float  # seconds, the command's own count
    wall: float
    peak: int  # bytes


def run_command(name: str, args: list[str], config: Config,
                extra: Callable[[], Iterable[psutil.Process]] = list) -> Result:
    command = [sys.executable, "-m", "dataman", "process", *args,
               str(config.paths.data_dir), "-c", str(config.source)]
    start = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with PeakMemory(lambda: [*tree(process), *extra()]) as memory:
        stdout, stderr = process.communicate()
    wall = time.perf_counter() - start
    found = SPEED.search(stdout)
    if process.returncode != 0 or found is None:
        raise SystemExit(f"{name} failed ({process.returncode}):\n{stdout[-2000:]}\n{stderr}")
    return Result(name, int(found[1]), float(found[2]), wall, memory.peak)


def run_floor(source: Path, config: Config, count: int, streams: int) -> Result:
    """Copy ``source`` to procDir and repoDir ``count`` times in ``streams`` threads."""
    night = config.paths.proc_dir / NIGHT
    night.mkdir(parents=True, exist_ok=True)

    def copy(number: int) -> None:
        for folder in (night, config.paths.repo_dir):
            shutil.copyfile(source, folder / f"floor.{number:04d}.fits")

    start = time.perf_counter()
    with PeakMemory(lambda: [psutil.Process()]) as memory, \
            ThreadPoolExecutor(streams) as pool:
        list(pool.map(copy, range(count)))
    elapsed = time.perf_counter() - start
    return Result(f"io-floor x{streams}", count, elapsed, elapsed, memory.peak)


def clean(config: Config) -> None:
    """Remove every output and the UNIQNAME registry, and write back what is still dirty:
    each contender starts afresh, none pays for the previous one's writes."""
    for folder in (config.paths.proc_dir, config.paths.state_dir):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
    for path in config.paths.repo_dir.iterdir():
        path.unlink()
    os.sync()


def measure(work: Path, count: int) -> list[tuple[Result, Result]]:
    """Each contender right after its own I/O floor (as many streams), so both see the same
    machine: the disk's write-back and other load change over minutes."""
    from distributed import LocalCluster

    config = write_config(work)
    print(f"making {count} full frames ...", flush=True)
    make_frames(config, count)
    output = work / "output-sized.fits"  # a file of the output's size, for the floor
    first = config.paths.data_dir / "mods1b" / raw_name("MODS1B", NIGHT, 1)
    subprocess.run([sys.executable, "-m", "dataman", "process", "--no-deliver", str(first),
                    "-c", str(config.source)], check=True, capture_output=True)
    shutil.copyfile(config.paths.proc_dir / NIGHT / first.name, output)
    clean(config)
    print(f"{count} full frames: raw {first.stat().st_size / 1e6:.1f} MB each, output "
          f"{output.stat().st_size / 1e6:.1f} MB written twice (procDir and repoDir)\n",
          flush=True)

    def pair(contender: Callable[[], Result], streams: int) -> tuple[Result, Result]:
        floor = run_floor(output, config, count, streams)
        clean(config)
        result = contender()
        clean(config)
        return result, floor

    results = [pair(lambda: run_command("--jobs 1", ["--jobs", "1"], config), 1),
               pair(lambda: run_command("--jobs 2", ["--jobs", "2"], config), 2)]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, host="127.0.0.1") as cluster:
        workers = tree(psutil.Process())[1:]  # the cluster's worker processes, ours
        results.append(pair(lambda: run_command(
            "dask 2x1", ["--scheduler", cluster.scheduler_address], config,
            extra=lambda: workers), 2))
    return results


def report(results: list[tuple[Result, Result]]) -> None:
    print(f"{'contender':<10}{'frames/s':>9}{'whole cmd':>10}{'io-floor':>9}"
          f"{'x floor':>8}{'peak MiB':>9}")
    for result, floor in results:
        print(f"{result.name:<10}{result.frames / result.processing:>9.2f}"
              f"{result.frames / result.wall:>10.2f}{floor.frames / floor.processing:>9.2f}"
              f"{result.processing / floor.processing:>8.2f}{result.peak / 2**20:>9.0f}")
    print("\nframes/s: over the processing (the command's summary line); whole cmd: from "
          "start to exit;\nio-floor: frames/s of copying the output to procDir and repoDir "
          "just before, in 1 stream\nfor --jobs 1, 2 otherwise; x floor: processing time / "
          "floor time; peak: summed PSS.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="dataman-bench-") as work:
        report(measure(Path(work), args.frames))


if __name__ == "__main__":
    main()
