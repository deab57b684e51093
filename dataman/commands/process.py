"""``dataman process PATH...``: reprocess frames without the service, in parallel, resumably.

A PATH is a raw frame or a folder walked for raw frame names. A frame is
delivered once: a frame whose processed file and archive copy both exist is
skipped, unless ``--force``, which redoes it and replaces those same files
under the same names (the frame keeps its UNIQNAME). Only raw frame names are
taken, so a renamed copy can never reach the archive. Beside the running
service it stays out of tonight's way (:mod:`dataman.commands.beside_service`).
The work itself is :mod:`dataman.batch`; this module is the command line.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
from pathlib import Path

from dataman.batch.runners import ClusterUnavailable
from dataman.batch.session import Options, reprocess
from dataman.batch.tally import EXIT_INTERRUPTED
from dataman.commands.arguments import count_of, night
from dataman.commands.beside_service import jobs_beside_service
from dataman.commands.common import add_config_option, config_or_exit
from dataman.commands.logs import setup_logging
from dataman.service.leftovers import clear_installation

#: Printed when ``--scheduler`` is asked for and Dask is not installed: what the
#: ``cluster`` extra of the mods-dataman distribution adds, installable anywhere.
INSTALL_DASK = "pip install 'dask[distributed]>=2024.1'"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "process", help="process raw frames directly (reprocessing a night, a run, a season)",
        description="Process raw frames without the service: fix headers, merge, write, "
                    "deliver, with N worker processes or on a Dask cluster. Prints one line "
                    "per frame (a progress bar on a terminal) and a summary. A frame already "
                    "processed and delivered is skipped unless --force; ctrl+c stops cleanly "
                    "and running the same command again finishes the rest. Exit status: 0 "
                    "all well, 1 some frame failed or was refused, 130 interrupted.")
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="a raw frame (<chan>.<YYYYMMDD>.<NNNN>.fits) or a folder walked "
                             "for raw frames")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("-j", "--jobs", type=count_of("processes"), default=None, metavar="N",
                       help="worker processes on this machine (default: the cores, "
                            f"{_cores()} here; 1 while this configuration's service runs)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run the frames on the Dask cluster of this scheduler, e.g. "
                            "tcp://head:8786 (every worker must see the same paths; needs "
                            f"{INSTALL_DASK})")
    parser.add_argument("--night", dest="nights", action="append", type=night, default=[],
                        metavar="YYYYMMDD",
                        help="only frames of this night (repeat for more nights)")
    parser.add_argument("--force", action="store_true",
                        help="redo frames already done, replacing their own earlier outputs "
                             "under the same names")
    parser.add_argument("--no-deliver", dest="deliver", action="store_false",
                        help="write procDir only; nothing goes to repoDir or <CHAN>.new")
    add_config_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = config_or_exit(args)
    if args.scheduler and importlib.util.find_spec("distributed") is None:
        print(f"dataman process: --scheduler needs Dask, which is not installed: {INSTALL_DASK}",
              file=sys.stderr)
        return 2
    setup_logging(config, console_level=logging.CRITICAL)
    jobs, beside = jobs_beside_service(config, args.jobs, _cores(), args.scheduler)
    clear_installation(config.paths)  # as the service does at start
    options = Options([Path(path) for path in args.paths], args.nights, jobs,
                      args.scheduler, args.force, args.deliver, synced=beside)
    try:
        return reprocess(config, options).exit_status
    except ClusterUnavailable as error:
        print(f"dataman process: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # the second ctrl+c: frames being written still finish
        print("dataman process: stopped waiting; run the same command again to finish",
              file=sys.stderr)
        return EXIT_INTERRUPTED


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1



