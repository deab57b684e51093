"""Time the night report (``dataman report``) for nights of 200 and 1000 frames.

    .venv/bin/python benchmarks/bench_report.py [--runs 5] [--frames 200 1000]

Each night is put in a fresh journal as the supervisor records one (a quarter each of
bias, flat, comp and object frames on both MODS1 channels, every 7th and 10th frame
flagged) with a thumbnail per frame, as the workers leave them; the report is then
written ``--runs`` times. Prints the median wall and CPU time, the page's size and the
goal set for it: a 200-frame night in at most 5 s. The first run of a process pays for
importing matplotlib; it is printed apart, as the service and ``dataman report`` pay
it once.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dataman.core.config import load_config  # noqa: E402
from dataman.service.report import write_report  # noqa: E402
from tests.quality.nights import NIGHT, fill_night  # noqa: E402

GOAL = {200: 5.0}


def measure(frames: int, runs: int) -> tuple[float, list[tuple[float, float]], int]:
    """(first wall, [(wall, cpu)] of the later runs, page bytes) for a night of ``frames``."""
    with tempfile.TemporaryDirectory(prefix="bench-report-") as work:
        folder = Path(work)
        (folder / "dataman.ini").write_text(
            "[paths]\ndataDir = data\nprocDir = proc\nrepoDir = newdata\nlogDir = log\n"
            "stateDir = state\nmakeDirs = True\n[server]\nhostid = bench\n")
        config = load_config(folder / "dataman.ini")
        fill_night(config, frames)
        times, first, size = [], 0.0, 0
        for run in range(runs + 1):
            wall, cpu = time.perf_counter(), time.process_time()
            written = write_report(config, NIGHT, folder / "report.html")
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if written.frames != frames:
                raise SystemExit(f"the report has {written.frames} frames, not {frames}")
            size = written.path.stat().st_size
            if run == 0:
                first = wall
            else:
                times.append((wall, cpu))
        return first, times, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--frames", type=int, nargs="+", default=[200, 1000])
    args = parser.parse_args()
    print("| frames | first run (imports) | median wall | median CPU | page | goal |")
    print("|---:|---:|---:|---:|---:|---|")
    for frames in args.frames:
        first, times, size = measure(frames, args.runs)
        wall = statistics.median(w for w, _ in times)
        cpu = statistics.median(c for _, c in times)
        goal = GOAL.get(frames)
        verdict = f"<= {goal:g} s: {'met' if wall <= goal else 'NOT met'}" if goal else ""
        print(f"| {frames} | {first:.2f} s | {wall:.2f} s | {cpu:.2f} s | "
              f"{size / 1e6:.1f} MB | {verdict} |")


if __name__ == "__main__":
    main()
