"""``dataman report``: the night report, one self-contained HTML page (docs/operations.md).

Made from the journal, the records of ``dataman process`` and the thumbnails in
stateDir, so it can be written while the service runs, for a night in progress
("so far") or one long past, or for a night only ever reprocessed. A night
with no frame exits 3, so a script or cron job notices.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from dataman.commands.arguments import count_of, night
from dataman.commands.common import add_config_option, config_or_exit
from dataman.core.nightlog import observing_date
from dataman.service.journal import JournalError

#: Exit status when the night has no frame to report (a wrong night, a wrong stateDir).
NOTHING = 3


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "report", help="write the night report: an HTML page with plots and thumbnails",
        description="Write one self-contained HTML page for an observing night from the "
                    "journal and the thumbnails in stateDir: counts and latency over the "
                    "night, each amplifier's bias and noise, a table of every frame with its "
                    "quality and thumbnail. By default beside the night log, "
                    "<logDir>/<hostid>dm.<night>.html.")
    parser.add_argument("--night", type=night, default=None, metavar="YYYYMMDD",
                        help="observing night (default: the current one, so far)")
    parser.add_argument("--out", type=Path, default=None, metavar="FILE",
                        help="write the page here instead")
    parser.add_argument("--trend", action="store_true",
                        help="instead, the detector trend over the nights to --night: each "
                             "amplifier's bias and noise and the CCD temperature, nightly "
                             "medians with the bands, <logDir>/<hostid>dm.trend.<night>.html")
    parser.add_argument("--nights", type=count_of("nights"), default=30, metavar="N",
                        help="with --trend: how many nights (default 30)")
    add_config_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = config_or_exit(args, check_dirs=False)
    from dataman.service.report import write_report, write_trend  # matplotlib comes with it

    night = args.night or observing_date(datetime.now(UTC), config.site.utc_offset)
    started = time.perf_counter()
    try:
        if args.trend:
            return _trend(write_trend(config, night, args.nights, args.out), args.nights,
                          started)
        written = write_report(config, night, args.out)
    except JournalError as error:
        print(f"dataman report: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"dataman report: cannot write {error.filename or args.out}: "
              f"{error.strerror or error}", file=sys.stderr)
        return 1
    if written.path is None:
        print(f"dataman report: night {night}: no frames processed by this installation "
              f"(journal and dataman process records in {config.paths.state_dir}); "
              "no report written", file=sys.stderr)
        return NOTHING
    print(f"night {night}: {written.frames} frames, report written to {written.path} "
          f"in {time.perf_counter() - started:.1f} s")
    return 0


def _trend(written, nights: int, started: float) -> int:
    if written.path is None:
        print(f"dataman report: no checked frames in the {nights} nights to {written.night}; "
              "no trend written", file=sys.stderr)
        return NOTHING
    print(f"trend of {nights} nights to {written.night}: {written.frames} checked frames, "
          f"written to {written.path} in {time.perf_counter() - started:.1f} s")
    return 0



