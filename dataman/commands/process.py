"""``dataman process FILE...``: process frames in this process, no service needed."""

from __future__ import annotations

import argparse
import logging
import sys

from dataman.commands.common import add_config_option, config_or_exit
from dataman.commands.logs import setup_logging
from dataman.core.errors import DataManError
from dataman.core.pipeline import format_timings, process_frame

log = logging.getLogger("dataman")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "process", help="process raw frames directly (reprocessing, batch jobs)",
        description="Process raw frames in this process: fix headers, merge, write, deliver. "
                    "Prints one line per frame with per-step timings.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="raw frame(s)")
    add_config_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = config_or_exit(args)
    setup_logging(config, console_level=logging.CRITICAL)
    failed = 0
    for file in args.files:
        try:
            result = process_frame(file, config)
        except DataManError as error:
            failed += 1
            log.error("%s: failed: %s", file, error)
            print(f"FAILED {file}: {error}")
            continue
        except OSError as error:
            failed += 1
            log.error("%s: failed: %s", file, error)
            print(f"FAILED {file}: {error.strerror or error}")
            continue
        flag = f" ({len(result.warnings)} warnings)" if result.warnings else ""
        print(f"ok     {result.name} -> {result.delivered}  {format_timings(result)}{flag}")
        for warning in result.warnings:
            print(f"       warning: {warning}")
    if failed:
        print(f"{failed} of {len(args.files)} frames failed", file=sys.stderr)
    return 1 if failed else 0
