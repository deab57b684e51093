"""What every subcommand shares: the ``-c`` option and loading the configuration.

Kept light (no logging, no astropy): ``dataman health`` and ``dataman send`` start here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dataman.core.config import EXIT_CONFIG, Config, default_config_path, load_config
from dataman.core.errors import ConfigError


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
