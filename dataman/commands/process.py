"""``dataman process FILE...``: process frames in this process, no service needed.

A frame is delivered once: a frame whose processed file and archive copy both
exist is skipped, unless ``--force``, which redoes it and replaces those same
files under the same names (the frame keeps its UNIQNAME). Only raw frame
names are taken, so a renamed copy can never reach the archive. Each frame's
quality verdict is printed with it; the frames are checked in the order given,
which is the order the night's bias trend (the bias-jump check) follows.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from dataman.commands.common import add_config_option, config_or_exit, setup_logging
from dataman.core.config import Config
from dataman.core.earlier import earlier_outputs
from dataman.core.errors import DataManError
from dataman.core.identity import UniqnameRegistry
from dataman.core.naming import RAW_NAME
from dataman.core.pipeline import format_timings, process_frame
from dataman.core.publish import remove_abandoned_temporaries
from dataman.core.quality import BiasTrend

log = logging.getLogger("dataman")
RAW_FORM = "<chan>.<YYYYMMDD>.<NNNN>.fits, e.g. mods1b.20251230.0012.fits"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "process", help="process raw frames directly (reprocessing, batch jobs)",
        description="Process raw frames in this process: fix headers, merge, write, deliver. "
                    "Prints one line per frame with per-step timings. A frame already "
                    "processed and delivered is skipped unless --force.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="raw frame(s)")
    parser.add_argument("--force", action="store_true",
                        help="redo frames already delivered, replacing their own earlier "
                             "outputs under the same names")
    add_config_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = config_or_exit(args)
    setup_logging(config, console_level=logging.CRITICAL)
    prepare_installation(config)
    failed, trend = 0, BiasTrend()
    for file in args.files:
        done, trend = process_one(Path(file), config, force=args.force, trend=trend)
        failed += not done
    if failed:
        print(f"{failed} of {len(args.files)} frames failed", file=sys.stderr)
    return 1 if failed else 0


def prepare_installation(config: Config) -> None:
    """Take over dataMan 0.1's name reservations and clear temporaries left by killed runs."""
    UniqnameRegistry(config.paths.state_dir).import_legacy(config.paths.proc_dir)
    for night_dir in (config.paths.repo_dir, *sorted(config.paths.proc_dir.glob("[0-9]" * 8))):
        remove_abandoned_temporaries(night_dir)


def process_one(path: Path, config: Config, *, force: bool,
                trend: BiasTrend) -> tuple[bool, BiasTrend]:
    """Process (or skip) one frame and print its line; False when it failed.

    Returns the bias trend with this frame's levels, for the next frame.
    """
    if not RAW_NAME.match(path.name):
        log.error("%s: refused: not a raw frame name (%s)", path, RAW_FORM)
        print(f"REFUSED {path}: not a raw frame name ({RAW_FORM})")
        return False, trend
    earlier = earlier_outputs(config, path.name)
    if earlier.complete and not force:
        print(f"skip   {path.name}: already delivered as {earlier.delivered} "
              f"(UNIQNAME {earlier.uniqname}); --force redoes it")
        return True, trend
    try:
        result = process_frame(path, config, redo=earlier.uniqname is not None, trend=trend)
    except (DataManError, OSError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        log.error("%s: failed: %s", path.name, reason)
        print(f"FAILED {path}: {reason}")
        return False, trend
    flag = f" ({len(result.warnings)} warnings)" if result.warnings else ""
    quality = result.quality
    verdict = f"  quality {quality.status} {quality.flags}".rstrip() if quality else ""
    verb = "redone" if earlier.uniqname else "ok    "
    print(f"{verb} {result.name} -> {result.delivered}  {format_timings(result)}{flag}{verdict}")
    for warning in result.warnings:
        print(f"       warning: {warning}")
    for finding in quality.findings if quality else ():
        print(f"       quality: {finding.flag}: {finding.reason}")
    return True, result.trend or trend
