"""The ``dataman`` command: one subcommand per face of the service (ARCHITECTURE "Faces")."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dataman import __version__
from dataman.commands import config_check, demo, process, send
from dataman.sim import command as simulate


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dataman", description="MODS data manager: raw Archon frames to archive-ready files.")
    parser.add_argument("--version", action="version", version=f"dataman {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (demo, process, send, simulate, config_check):
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
