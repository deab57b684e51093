"""``dataman demo``: a newcomer's first command.

Simulates a night of MODS frames (both channels, several readout modes) into
``dataDir`` of the configuration, processes every one of them, and prints a
summary. (With the service in place this will drive the real service instead.)
"""

from __future__ import annotations

import argparse
import itertools
import logging
import statistics
import time
from datetime import UTC, datetime, timedelta

from dataman.commands.common import add_config_option, config_or_exit, setup_logging
from dataman.core.errors import DataManError
from dataman.core.pipeline import format_timings, process_frame
from dataman.sim.frames import FrameSpec, write_raw_frame

PLAN = [("MODS1B", "full", 1), ("MODS1R", "full", 1), ("MODS1B", "3kx3k", 1),
        ("MODS1R", "1kx1k", 1), ("MODS1B", "full", 2), ("MODS1R", "4kx3k", 1)]


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="simulate a night of frames and process them all")
    parser.add_argument("--frames", type=int, default=6, help="number of frames (default 6)")
    add_config_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = config_or_exit(args)
    night_log = setup_logging(config, console_level=logging.ERROR)
    start = datetime.now(UTC).replace(microsecond=0)
    night = start.strftime("%Y%m%d")
    print(f"dataMan demo: {args.frames} simulated frames, configuration {config.source}")
    latencies, failures = [], []
    for index, (instrument, roi, binning) in zip(range(args.frames), itertools.cycle(PLAN)):
        number = _next_number(config.paths.data_dir / instrument.lower(), night)
        spec = FrameSpec(instrument=instrument, roi=roi, binning=binning, night=night,
                         number=number, start=start + timedelta(minutes=index), seed=number)
        raw = write_raw_frame(config.paths.data_dir / instrument.lower(), spec)
        begun = time.perf_counter()
        try:
            result = process_frame(raw, config)
        except DataManError as error:
            failures.append(raw.name)
            print(f"  FAILED {raw.name}: {error}")
            continue
        latencies.append(time.perf_counter() - begun)
        print(f"  {raw.name}  {roi:>5} {binning}x{binning}  -> {result.delivered.name}"
              f"  {format_timings(result)}")
    _summary(config, latencies, failures, night_log.current_path)
    return 1 if failures else 0


def _next_number(folder, night: str) -> int:
    existing = sorted(folder.glob(f"*.{night}.*.fits")) if folder.is_dir() else []
    return len(existing) + 1


def _summary(config, latencies: list[float], failures: list[str], log_path) -> None:
    print(f"\ndelivered {len(latencies)} frames, failed {len(failures)}")
    if latencies:
        print(f"processing time per frame: median {statistics.median(latencies):.2f} s, "
              f"max {max(latencies):.2f} s")
    print(f"processed files: {config.paths.proc_dir}")
    print(f"staging (repoDir): {config.paths.repo_dir}")
    print(f"night log: {log_path}")
