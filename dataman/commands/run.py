"""``dataman run``: the service itself, as systemd starts it (docs/commands.md)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from dataman.commands.common import add_config_option, config_or_exit
from dataman.commands.logs import setup_logging
from dataman.core.config import EXIT_CONFIG

log = logging.getLogger("dataman")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="run the service: UDP commands, worker pool, journal, control socket",
        description="Run dataMan: receive 'proc <file>' / 'quit' datagrams, process frames "
        "in a pool of worker processes, deliver them, and serve the console.")
    add_config_option(parser)
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also print INFO lines on stderr (the night log has them all)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Exit 0 after a clean stop, 78 if the environment forbids starting, 1 if another runs."""
    from dataman.ipc.slots import SlotError  # the service's imports, only when it runs
    from dataman.ipc.udp import PortInUse
    from dataman.service.journal import JournalError
    from dataman.service.lock import AlreadyRunning, StateDirUnusable
    from dataman.service.runner import serve

    config = config_or_exit(args)
    night = setup_logging(config,
                          console_level=logging.INFO if args.verbose else logging.WARNING)
    try:
        asyncio.run(serve(config))
    except AlreadyRunning as error:
        return refused(night, error, 1)
    except (JournalError, SlotError, StateDirUnusable, PortInUse) as error:
        return refused(night, error, EXIT_CONFIG)
    except OSError as error:
        return refused(night, error, 1)
    return 0


def refused(night: logging.Handler, error: Exception, status: int) -> int:
    """Say why on stderr (the journal under systemd) only: the night log, shared with the
    service that may be running, holds that service's lines, not a refused start's."""
    log.removeHandler(night)
    night.close()
    log.error("not started: %s", error)
    return status


if __name__ == "__main__":
    sys.exit(run(argparse.Namespace()))
