"""``dataman config --check [FILE]`` and ``dataman config --convert FILE``.

``--check`` validates a configuration and prints it in effect. It says which
file it read and why that one (the lookup order of ``find_config``), and which
sections the file lacks and got at their defaults, so an operator sees exactly
what the service would run with. On the reference dataMan's YAML file it also
says what became of each key (:mod:`dataman.commands.config_mapping`).
``--convert`` prints the ``dataman.ini`` equivalent to such a file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dataman.commands.common import config_or_exit
from dataman.commands.config_mapping import converted_ini, mapping_notes, print_notes
from dataman.core.config import find_config
from dataman.core.reference_yaml import is_reference_yaml


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "config", help="validate a configuration file and print the effective configuration",
        description="Check a configuration (dataman.ini, or the reference dataMan's YAML "
        "file) or convert a YAML file to dataman.ini.")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--check", dest="file", nargs="?", type=Path, const=None, default=None,
                      metavar="FILE", help="file to check (default: as for -c)")
    what.add_argument("--convert", type=Path, default=None, metavar="FILE",
                      help="print the dataman.ini equivalent to the reference's YAML FILE")
    parser.add_argument("-c", "--config", type=Path, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.convert is not None:
        return convert(args)
    path, why = find_config(args.file if args.file is not None else args.config)
    args.config = path
    config = config_or_exit(args, check_dirs=False, create_dirs=False)
    text = config.source.read_text(encoding="utf-8")
    if is_reference_yaml(text):  # first: a missing stateDir is one of the answers
        print_notes(mapping_notes(text, config.source, config))
        sys.stdout.flush()
    config = config_or_exit(args, create_dirs=False)
    print(config.text, end="")
    print(f"# configuration file: {config.source} ({why})")
    if config.defaulted:
        print(f"# not in the file, every key at its default: {', '.join(config.defaulted)}")
    print(f"# {config.source}: OK")
    return 0


def convert(args: argparse.Namespace) -> int:
    """The equivalent ini on stdout; a file already in that format is printed as it is."""
    args.config = args.convert
    config = config_or_exit(args, check_dirs=False, create_dirs=False)
    text = config.source.read_text(encoding="utf-8")
    if not is_reference_yaml(text):
        print(f"dataman: {config.source} is already in the dataman.ini format", file=sys.stderr)
        print(text, end="")
        return 0
    print(converted_ini(text, config.source, mapping_notes(text, config.source, config)),
          end="")
    return 0
