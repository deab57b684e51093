"""``dataman config --check [FILE]``: validate a configuration and print it in effect."""

from __future__ import annotations

import argparse
from pathlib import Path

from dataman.commands.common import config_or_exit


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "config", help="validate a configuration file and print the effective configuration")
    parser.add_argument("--check", dest="file", nargs="?", type=Path, const=None, default=None,
                        metavar="FILE", help="file to check (default: as for -c)")
    parser.add_argument("-c", "--config", type=Path, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.file is not None:
        args.config = args.file
    config = config_or_exit(args, create_dirs=False)
    print(config.text, end="")
    print(f"# {config.source}: OK")
    return 0
