"""The ``dataman`` command: one subcommand per face of the service (docs/commands.md)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from dataman import __version__

#: Subcommand → module whose ``register(subparsers)`` adds it, in help order. Modules are
#: imported only when needed: ``dataman health``, run every few seconds by the status
#: display and bound to answer within a second, must not pay for importing astropy.
COMMANDS = {
    "run": "dataman.commands.run",
    "demo": "dataman.commands.demo",
    "process": "dataman.commands.process",
    "report": "dataman.commands.report",
    "compare": "dataman.commands.compare",
    "send": "dataman.commands.send",
    "simulate": "dataman.commands.simulate",
    "config": "dataman.commands.config_check",
    "health": "dataman.commands.health",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, or of ``command`` alone when it names one."""
    parser = argparse.ArgumentParser(
        prog="dataman", description="MODS data manager: raw Archon frames to archive-ready files.",
        epilog="The live console is a separate command: dataman-console (see its --help).")
    parser.add_argument("--version", action="version", version=f"dataman {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        if command in (None, name):
            importlib.import_module(module).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    args = build_parser(command).parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
