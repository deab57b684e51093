"""What every subcommand shares: the ``-c`` option and loading the configuration."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from dataman.core.config import EXIT_CONFIG, Config, default_config_path, load_config
from dataman.core.errors import ConfigError
from dataman.core.nightlog import NightLogHandler, UtcFormatter, default_hostid


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", type=Path, default=None, metavar="FILE",
                        help="configuration file (default: $DATAMAN_CONFIG, ./dataman.ini, "
                             "/etc/dataman/dataman.ini, or the packaged default)")


def config_or_exit(args: argparse.Namespace, *, create_dirs: bool = True,
                   check_dirs: bool = True) -> Config:
    """The validated configuration; on error print file, key and reason and exit 78.

    ``check_dirs=False`` is for commands that only need settings (``dataman
    send`` needs host and port, not the working directories).
    """
    path = args.config or default_config_path()
    try:
        return load_config(path, check_dirs=check_dirs, create_dirs=create_dirs)
    except ConfigError as error:
        print(f"dataman: configuration error:\n{error}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from error


def setup_logging(config: Config, *, console_level: int = logging.WARNING) -> NightLogHandler:
    """Log to the night file (everything) and to stderr (``console_level`` and up)."""
    logger = logging.getLogger("dataman")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    night = NightLogHandler(config.paths.log_dir, config.server.hostid or default_hostid(),
                            config.site.utc_offset)
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(UtcFormatter())
    console.setLevel(console_level)
    logger.addHandler(night)
    logger.addHandler(console)
    return night
