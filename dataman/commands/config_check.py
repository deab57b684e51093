"""``dataman config --check [FILE]``: validate a configuration and print it in effect.

It says which file it read and why that one (the lookup order of
``find_config``), and which sections the file lacks and got at their defaults,
so an operator sees exactly what the service would run with.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dataman.commands.common import config_or_exit
from dataman.core.config import find_config


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "config", help="validate a configuration file and print the effective configuration")
    parser.add_argument("--check", dest="file", nargs="?", type=Path, const=None, default=None,
                        metavar="FILE", help="file to check (default: as for -c)")
    parser.add_argument("-c", "--config", type=Path, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path, why = find_config(args.file if args.file is not None else args.config)
    args.config = path
    config = config_or_exit(args, create_dirs=False)
    print(config.text, end="")
    print(f"# configuration file: {config.source} ({why})")
    if config.defaulted:
        print(f"# not in the file, every key at its default: {', '.join(config.defaulted)}")
    print(f"# {config.source}: OK")
    return 0
